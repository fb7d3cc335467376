namespace Mistral.C2F.Engine.Generation;

/// <summary>How the next token is chosen. Temperature 0 is greedy; TopK 0 and TopP 1 disable those filters.</summary>
/// <param name="FirstSequence">
/// The index of the batch's first sequence in a larger batch (a data-parallel rank's share of it): sequence b draws as
/// sequence FirstSequence + b of the whole would, so the samples do not depend on how the batch is split.
/// </param>
public sealed record SamplingOptions(float Temperature = 0f, int TopK = 0, float TopP = 1f, int Seed = 0, int FirstSequence = 0)
{
    public bool IsGreedy => Temperature == 0f;

    public void Validate()
    {
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be ≥ 0, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"top-k must be ≥ 0, got {TopK}");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}");
        if (FirstSequence < 0) throw new ArgumentException($"the first sequence's index must be ≥ 0, got {FirstSequence}");
    }
}
