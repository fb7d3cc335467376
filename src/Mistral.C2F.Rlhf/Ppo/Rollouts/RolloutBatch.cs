namespace Mistral.C2F.Rlhf.Ppo.Rollouts;

/// <summary>
/// Prompt + response sequences as right-padded rows [B, Length] for scoring and training. Row b holds its prompt
/// (length P_b) then its response (length R_b), positions 0..P_b+R_b-1, and padding at position -1. Response token j
/// of row b is predicted by the logits at flat row <see cref="PredictingRow"/>(b, j) = b·Length + P_b + j − 1, so
/// every per-token quantity of PPO (log-probability, value, KL) lives at those rows, the TRL convention.
/// </summary>
public sealed class RolloutBatch
{
    public RolloutBatch(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> responses, int padId)
    {
        if (prompts.Count == 0 || prompts.Count != responses.Count)
            throw new ArgumentException($"need one response per prompt, got {prompts.Count} prompts and {responses.Count} responses");
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("a prompt needs at least one token (usually BOS)");
        (Prompts, Responses) = (prompts, responses);
        Length = prompts.Zip(responses, (p, r) => p.Length + r.Length).Max();
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
    public int Length { get; }
    public int[] Tokens { get; }
    public int[] Positions { get; }

    /// <summary>At each flat row: the response token it predicts, or -1 (prompt, last token, padding). The targets of PPO's log-probabilities.</summary>
    public int[] ResponseTargets { get; }

    public int PredictingRow(int sequence, int responseToken) => sequence * Length + Prompts[sequence].Length + responseToken - 1;

    /// <summary>The flat row of each sequence's last real token, where a reward model reads its score.</summary>
    public int[] LastTokenRows() =>
        Enumerable.Range(0, Count).Select(b => b * Length + Prompts[b].Length + Responses[b].Length - 1).ToArray();

    /// <summary>Per-sequence arrays of a per-row quantity, read at the rows that predict each response token.</summary>
    public double[][] ResponseValues(ReadOnlySpan<double> perRow)
    {
        var result = new double[Count][];
        for (int b = 0; b < Count; b++)
        {
            result[b] = new double[Responses[b].Length];
            for (int j = 0; j < result[b].Length; j++) result[b][j] = perRow[PredictingRow(b, j)];
        }
        return result;
    }

    /// <summary>The inverse of <see cref="ResponseValues"/>: per-token values scattered back to their rows, zero elsewhere.</summary>
    public double[] ToRows(IReadOnlyList<double[]> perToken)
    {
        var rows = new double[Count * Length];
        for (int b = 0; b < Count; b++)
        for (int j = 0; j < perToken[b].Length; j++)
            rows[PredictingRow(b, j)] = perToken[b][j];
        return rows;
    }
}
