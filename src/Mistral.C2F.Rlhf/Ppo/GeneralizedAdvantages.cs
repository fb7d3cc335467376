namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>Generalized advantage estimates (Schulman et al. 2016) over the real tokens of each response, and the critic's targets.</summary>
/// <param name="Advantages">Per slot, not whitened (whiten them with <see cref="MaskedWhitening"/>); 0 on padding.</param>
/// <param name="Returns">Per slot, advantages + values: the value loss's targets; 0 on padding.</param>
public sealed record GeneralizedAdvantages(double[] Advantages, double[] Returns)
{
    /// <summary>
    /// δ_t = r_t + γ·V_{t+1} − V_t and A_t = δ_t + γλ·A_{t+1}, backwards from each response's last real token, after
    /// which the episode ends (V = 0, A = 0), also for responses cut at the length limit, as TRL.
    /// </summary>
    public static GeneralizedAdvantages Compute(ResponseLayout layout, ReadOnlySpan<double> rewards, ReadOnlySpan<double> values, double gamma, double lam)
    {
        layout.RequireSlots(rewards.Length, "rewards");
        layout.RequireSlots(values.Length, "values");
        if (!(gamma is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be in [0, 1]");
        if (!(lam is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(lam), lam, "lam must be in [0, 1]");
        var advantages = new double[layout.Slots];
        var returns = new double[layout.Slots];
        for (int row = 0; row < layout.Rows; row++)
        {
            double nextValue = 0, nextAdvantage = 0;
            for (int i = layout.Last(row); i >= layout.Start(row); i--)
            {
                double delta = rewards[i] + gamma * nextValue - values[i];
                advantages[i] = nextAdvantage = delta + gamma * lam * nextAdvantage;
                returns[i] = advantages[i] + values[i];
                nextValue = values[i];
            }
        }
        return new GeneralizedAdvantages(advantages, returns);
    }
}
