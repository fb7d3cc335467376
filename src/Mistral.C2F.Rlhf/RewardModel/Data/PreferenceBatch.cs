namespace Mistral.C2F.Rlhf.RewardModel.Data;

/// <summary>
/// B preference pairs as 2B right-padded rows [2B, Length]: rows 0..B-1 hold the chosen sequences, rows B..2B-1 the
/// rejected ones, each BOS + prompt + response + EOS. Padding has position -1 (invisible to attention). The reward is
/// read at <see cref="LastTokens"/>, the flat index of each row's last real token (its EOS).
/// </summary>
public sealed record PreferenceBatch(int Pairs, int Length, int[] Tokens, int[] Positions, int[] LastTokens, double[] Margins)
{
    /// <summary>Pairs rank, rank + ranks, … of the batch: a data-parallel rank's share, its rows padded to the same length.</summary>
    public PreferenceBatch Share(int rank, int ranks)
    {
        if (ranks == 1) return this;
        int[] pairs = Enumerable.Range(0, Pairs).Where(i => i % ranks == rank).ToArray();
        int[] rows = [.. pairs, .. pairs.Select(i => Pairs + i)];
        int[] Take(int[] perToken) => rows.SelectMany(row => perToken.Skip(row * Length).Take(Length)).ToArray();
        int[] last = rows.Select((row, k) => k * Length + LastTokens[row] - row * Length).ToArray();
        return new PreferenceBatch(pairs.Length, Length, Take(Tokens), Take(Positions), last, pairs.Select(i => Margins[i]).ToArray());
    }
}
