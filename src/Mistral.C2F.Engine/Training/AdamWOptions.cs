using System.Text.Json.Serialization;
using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Engine.Training;

/// <summary>AdamW hyper-parameters (PyTorch's names and defaults, TRL's weight decay of 0).</summary>
public sealed record AdamWOptions
{
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    public float WeightDecay { get; init; } = 0f;

    /// <summary>Decoupled weight decay applies to projection matrices only: never to norms or embeddings (nor a tied head).</summary>
    public bool DecayEmbeddings { get; init; }

    /// <summary>
    /// ZeRO-1 in a data-parallel job: each rank keeps the moments of its range of the parameters only
    /// (<see cref="Distributed.Zero1Partition"/>). Not saved with a run: it changes where the state lives, not what a step
    /// computes, and checkpoints hold the state whole, so a run resumes with or without it.
    /// </summary>
    [JsonIgnore]
    public bool ShardOverRanks { get; init; }

    public bool Decays(string parameterName) =>
        !parameterName.EndsWith("norm.weight", StringComparison.Ordinal)
        && (DecayEmbeddings || (parameterName != MistralParameterNames.Embedding && parameterName != MistralParameterNames.LmHead));
}
