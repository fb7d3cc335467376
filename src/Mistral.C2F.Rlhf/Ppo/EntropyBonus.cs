namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>The entropy bonus of one mini-batch: −c·mean(H_t) over real tokens, added to the policy loss.</summary>
/// <param name="Loss">−c·mean entropy (0 when the coefficient is 0).</param>
/// <param name="MeanEntropy">mean H_t over real tokens (policy/entropy_avg).</param>
/// <param name="EntropyGradient">∂Loss/∂H_t = −c/N on real tokens, 0 on padding: the entropy output's seed in the backward.</param>
public sealed record EntropyBonus(double Loss, double MeanEntropy, double[] EntropyGradient)
{
    /// <param name="entropy">Entropy of the policy's next-token distribution at every slot.</param>
    /// <param name="coefficient">c ≥ 0 (OpenRLHF's entropy_loss_coef).</param>
    public static EntropyBonus Compute(ResponseLayout layout, ReadOnlySpan<double> entropy, double coefficient)
    {
        layout.RequireSlots(entropy.Length, "entropies");
        if (!(coefficient >= 0)) throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "the entropy coefficient must be ≥ 0");
        double n = layout.TokenCount;
        var gradient = new double[layout.Slots];
        double sum = 0;
        for (int row = 0; row < layout.Rows; row++)
        {
            for (int i = layout.Start(row); i <= layout.Last(row); i++)
            {
                sum += entropy[i];
                gradient[i] = -coefficient / n;
            }
        }
        return new EntropyBonus(-coefficient * sum / n, sum / n, gradient);
    }
}
