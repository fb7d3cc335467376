namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Packs tokenized examples into fixed-length sequences, the way llm.c's data loader reads its token stream.
/// </summary>
/// <remarks>
/// <para>The examples, each with its own BOS and EOS, are concatenated in order into one stream. Sequence k reads the
/// <c>sequenceLength + 1</c> stream tokens starting at <c>k·sequenceLength</c>: the first <c>sequenceLength</c> are
/// its inputs, the last <c>sequenceLength</c> its targets. Consecutive sequences thus share one token (the last
/// target of one is the first input of the next), and an example that does not fit is split across the boundary. No
/// token is lost: every stream token is an input exactly once (except the very last, which has nothing to predict) and a
/// target exactly once (except the very first, a BOS that nothing predicts). A target is <see cref="PackedSequence.NoTarget"/>
/// where its token's loss mask is false, e.g. a prompt, or a BOS predicted from the previous example's EOS.</para>
/// <para>The last sequence is padded with <c>padId</c> inputs and <see cref="PackedSequence.NoTarget"/> targets.</para>
/// <para>Positions run 0..sequenceLength−1 within every sequence and attention is plainly causal, so a token may attend
/// to the end of the previous example in the same sequence: the usual packing trade-off, accepted for sequences without
/// padding waste; the BOS/EOS between examples tells the model where one ends.</para>
/// </remarks>
public static class SequencePacker
{
    public static IReadOnlyList<PackedSequence> Pack(IEnumerable<TokenizedExample> examples, int sequenceLength, int padId)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padId);

        var tokens = new List<int>();
        var loss = new List<bool>();
        foreach (var example in examples)
        {
            tokens.AddRange(example.Ids);
            loss.AddRange(example.LossMask);
        }

        var sequences = new List<PackedSequence>();
        for (int start = 0; start + 1 < tokens.Count; start += sequenceLength)
        {
            var inputs = new int[sequenceLength];
            var targets = new int[sequenceLength];
            int filled = Math.Min(sequenceLength, tokens.Count - 1 - start);
            for (int i = 0; i < filled; i++)
            {
                inputs[i] = tokens[start + i];
                targets[i] = loss[start + i + 1] ? tokens[start + i + 1] : PackedSequence.NoTarget;
            }
            inputs.AsSpan(filled).Fill(padId);
            targets.AsSpan(filled).Fill(PackedSequence.NoTarget);
            sequences.Add(new PackedSequence(inputs, targets));
        }
        return sequences;
    }
}
