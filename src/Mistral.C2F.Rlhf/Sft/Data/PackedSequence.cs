namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// One fixed-length training sequence for next-token prediction: <c>Targets[i]</c> is the token that follows
/// <c>Inputs[i]</c>, or <see cref="NoTarget"/> where no loss is taken (a masked label or padding).
/// </summary>
public sealed record PackedSequence
{
    /// <summary>The engine's marker for a position without loss (see <c>Backend.TokenLogProbs</c>).</summary>
    public const int NoTarget = -1;

    public PackedSequence(int[] inputs, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Length != targets.Length)
            throw new ArgumentException($"{inputs.Length} inputs but {targets.Length} targets", nameof(targets));
        Inputs = inputs;
        Targets = targets;
        LossTokenCount = targets.Count(target => target != NoTarget);
    }

    public int[] Inputs { get; }
    public int[] Targets { get; }
    public int Length => Inputs.Length;
    public int LossTokenCount { get; }
}
