namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>The steps of a pipeline seed in the order they wait on each other; a lane goes to the earliest step waiting.</summary>
public enum PipelineStep
{
    /// <summary>Base pretraining: every later stage of the seed waits on it.</summary>
    Pretraining,
    /// <summary>The reward model and, beside it, instruction SFT.</summary>
    RewardModel,
    /// <summary>The reward model measured, L₀ from the base model's answers.</summary>
    Measurement,
    /// <summary>The Coarse Actor and its ablations.</summary>
    Ppo,
    /// <summary>The λ sweep and the refinement SFT.</summary>
    Merging,
    /// <summary>Every model on the held-out prompts.</summary>
    Evaluation,
}

/// <summary>
/// Which waiting stage takes a free lane first: the earlier step, then the earlier seed, then the one that asked first.
/// An earlier step heads a longer chain of stages that wait on it, while the later ones (four PPO runs, the λ sweep, ten
/// evaluations) can fill any lane; so a sweep trains every seed's base and reward model first and ends on work that keeps
/// both lanes busy, instead of on one seed's reward model and PPO runs after the others are done (longest chain first).
/// </summary>
/// <param name="SeedOrder">The seed's place in the sweep (0 for the first seed given), not the seed itself.</param>
public readonly record struct StagePriority(PipelineStep Step, int SeedOrder) : IComparable<StagePriority>
{
    public int CompareTo(StagePriority other) => Step != other.Step ? Step.CompareTo(other.Step) : SeedOrder.CompareTo(other.SeedOrder);
}
