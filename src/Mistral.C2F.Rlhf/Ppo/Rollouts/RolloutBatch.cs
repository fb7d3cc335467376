namespace Mistral.C2F.Rlhf.Ppo.Rollouts;

/// <summary>
/// Prompt + response sequences as right-padded rows [B, Length] for scoring and training. Row b holds its prompt
/// (length P_b) then its response (length R_b), positions 0..P_b+R_b-1, and padding at position -1. Response token j
/// of row b is predicted by the logits at flat row <see cref="PredictingRow"/>(b, j) = b·Length + P_b + j − 1, so
/// every per-token quantity of PPO (log-probability, value, KL) lives at those rows, the TRL convention. Per-token
/// quantities travel in the PPO math's <see cref="ResponseLayout"/>: [B, longest response], right-padded.
/// </summary>
public sealed class RolloutBatch
{
    public RolloutBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> responses, int padId)
    {
        if (prompts.Count == 0 || prompts.Count != responses.Count)
            throw new ArgumentException($"need one response per prompt, got {prompts.Count} prompts and {responses.Count} responses");
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("a prompt needs at least one token (usually BOS)");
        if (responses.Any(r => r.Length == 0)) throw new ArgumentException("a response needs at least one token (its EOS, if nothing else)");
        (Prompts, Responses) = (prompts, responses);
        Length = prompts.Zip(responses, (p, r) => p.Length + r.Length).Max();
        Layout = new ResponseLayout(responses.Max(r => r.Length), responses.Select(r => r.Length).ToArray());
        Tokens = new int[Count * Length];
        Positions = new int[Count * Length];
        ResponseTargets = new int[Count * Length];
        Array.Fill(Tokens, padId);
        Array.Fill(Positions, -1);
        Array.Fill(ResponseTargets, -1);
        for (int b = 0; b < Count; b++)
        {
            var row = prompts[b].Concat(responses[b]).ToArray();
            row.CopyTo(Tokens, b * Length);
            for (int i = 0; i < row.Length; i++) Positions[b * Length + i] = i;
            for (int j = 0; j < responses[b].Length; j++) ResponseTargets[PredictingRow(b, j)] = responses[b][j];
        }
    }

    public IReadOnlyList<int[]> Prompts { get; }
    public IReadOnlyList<int[]> Responses { get; }
    public int Count => Prompts.Count;
    public ResponseLayout Layout { get; }
    public int Length { get; }
    public int[] Tokens { get; }
    public int[] Positions { get; }

    /// <summary>At each flat row: the response token it predicts, or -1 (prompt, last token, padding). The targets of PPO's log-probabilities.</summary>
    public int[] ResponseTargets { get; }

    public int PredictingRow(int sequence, int responseToken) => sequence * Length + Prompts[sequence].Length + responseToken - 1;

    /// <summary>The flat row of each sequence's last real token, where a reward model reads its score.</summary>
    public int[] LastTokenRows() =>
        Enumerable.Range(0, Count).Select(b => b * Length + Prompts[b].Length + Responses[b].Length - 1).ToArray();

    /// <summary>A per-row quantity read at the rows that predict each response token, in <see cref="Layout"/> order.</summary>
    public double[] ResponseValues(ReadOnlySpan<double> perRow)
    {
        var values = new double[Layout.Slots];
        for (int b = 0; b < Count; b++)
        for (int j = 0; j < Responses[b].Length; j++)
            values[Layout.Start(b) + j] = perRow[PredictingRow(b, j)];
        return values;
    }

    /// <summary>The inverse of <see cref="ResponseValues"/>: per-token values scattered back to their rows, zero elsewhere.</summary>
    public double[] ToRows(ReadOnlySpan<double> perToken)
    {
        var rows = new double[Count * Length];
        for (int b = 0; b < Count; b++)
        for (int j = 0; j < Responses[b].Length; j++)
            rows[PredictingRow(b, j)] = perToken[Layout.Start(b) + j];
        return rows;
    }

    /// <summary>The rollouts at <paramref name="indices"/>, as a batch of their own (a PPO mini-batch).</summary>
    public RolloutBatch Subset(IReadOnlyList<int> indices, int padId) =>
        new(indices.Select(i => Prompts[i]).ToList(), indices.Select(i => Responses[i]).ToList(), padId);

    /// <summary>Per-token values of this batch, for the rollouts at <paramref name="indices"/>, in <paramref name="subset"/>'s layout.</summary>
    public double[] SubsetValues(ReadOnlySpan<double> perToken, IReadOnlyList<int> indices, RolloutBatch subset)
    {
        var values = new double[subset.Layout.Slots];
        for (int s = 0; s < indices.Count; s++)
            perToken.Slice(Layout.Start(indices[s]), Responses[indices[s]].Length).CopyTo(values.AsSpan(subset.Layout.Start(s)));
        return values;
    }
}
