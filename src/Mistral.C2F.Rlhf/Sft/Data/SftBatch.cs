namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// <paramref name="BatchSize"/> packed sequences of <paramref name="SequenceLength"/> tokens as flat row-major arrays
/// [B·S]; a target of <see cref="PackedSequence.NoTarget"/> takes no loss. <paramref name="LossTokenCount"/> is the
/// number of other targets (it may be 0, e.g. for a batch of prompts only), the denominator of a mean token loss.
/// </summary>
public sealed record SftBatch(int BatchSize, int SequenceLength, int[] Tokens, int[] Targets, int LossTokenCount);
