namespace Mistral.C2F.Rlhf.RewardModel.Data;

/// <summary>
/// B preference pairs as 2B right-padded rows [2B, Length]: rows 0..B-1 hold the chosen sequences, rows B..2B-1 the
/// rejected ones, each BOS + prompt + response + EOS. Padding has position -1 (invisible to attention). The reward is
/// read at <see cref="LastTokens"/>, the flat index of each row's last real token (its EOS).
/// </summary>
public sealed record PreferenceBatch(int Pairs, int Length, int[] Tokens, int[] Positions, int[] LastTokens, double[] Margins);
