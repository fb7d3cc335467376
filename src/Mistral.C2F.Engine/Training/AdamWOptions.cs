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

    public bool Decays(string parameterName) =>
        !parameterName.EndsWith("norm.weight", StringComparison.Ordinal)
        && (DecayEmbeddings || (parameterName != MistralParameterNames.Embedding && parameterName != MistralParameterNames.LmHead));
}
