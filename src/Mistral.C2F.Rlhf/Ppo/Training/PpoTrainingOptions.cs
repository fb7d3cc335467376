using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Ppo.Training;

/// <summary>
/// A PPO run: the models besides the starting policy, how many rollouts per iteration, and the run's bookkeeping.
/// The algorithm's own settings are <see cref="Ppo"/> (TRL's names).
/// </summary>
public sealed record PpoTrainingOptions : IRunOptions
{
    /// <summary>PPO iterations: rollouts, then num_ppo_epochs × num_mini_batches updates.</summary>
    public int Iterations { get; init; } = 50;
    /// <summary>Prompts rolled out per iteration (TRL: batch_size).</summary>
    public int RolloutsPerIteration { get; init; } = 32;
    /// <summary>The reward model (a sequence classifier directory).</summary>
    public string RewardModelDirectory { get; init; } = "";
    /// <summary>The critic's starting point; the reward model when null (TRL's default: no randomly initialised value head).</summary>
    public string? CriticDirectory { get; init; }
    /// <summary>The frozen reference policy of the KL penalty; the starting policy when null.</summary>
    public string? ReferenceDirectory { get; init; }
    public PpoOptions Ppo { get; init; } = new();
    /// <summary>Where rollouts' scores come from; the reward model also scores them under <see cref="RewardSource.AnswerChecker"/>, for the log.</summary>
    public RewardSource Reward { get; init; } = RewardSource.RewardModel;
    /// <summary>JSONL of prompts with reference answers, answered greedily after every iteration (eval/accuracy); null: none.</summary>
    public string? ValidationPrompts { get; init; }
    /// <summary>New tokens per validation answer: one budget for every run, so accuracies compare across length limits.</summary>
    public int ValidationMaxTokens { get; init; } = 96;
    public AdamWOptions Optimizer { get; init; } = new();
    public int SaveEvery { get; init; } = 10;
    public int KeepCheckpoints { get; init; } = 2;
    public int Seed { get; init; }
    public int MaxConsecutiveSkips { get; init; } = 3;

    public void Validate()
    {
        if (Iterations < 1 || RolloutsPerIteration < 1 || SaveEvery < 1 || KeepCheckpoints < 1 || MaxConsecutiveSkips < 0)
            throw new ArgumentException($"invalid PPO run options: iterations, rollouts per iteration, save-every and keep must be ≥ 1 ({this})");
        if (string.IsNullOrWhiteSpace(RewardModelDirectory)) throw new ArgumentException("PPO needs a reward model directory");
        if (Ppo.NumMiniBatches > RolloutsPerIteration)
            throw new ArgumentException($"{Ppo.NumMiniBatches} mini-batches cannot split {RolloutsPerIteration} rollouts");
        if (ValidationMaxTokens < 1) throw new ArgumentException($"validation answers need at least one token, got {ValidationMaxTokens}");
        Ppo.Validate();
    }
}
