namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// The reward model's pairwise loss (TRL's RewardTrainer) on the host, in float64: per pair −log σ(r_c − r_r − m)
/// + c·(r_c + r_r)², its gradient and the sums a reward-model step logs. The second term (TRL's
/// center_rewards_coefficient c) is the only part of the loss that sees a score's level: without it every prompt's
/// scores may sit at a level of their own, so that a wrong answer to one prompt outscores a right answer to another.
/// The definition <see cref="Backend.BradleyTerry"/> is checked against, and what a backend without its own kernel
/// computes.
/// </summary>
public static class BradleyTerryStatistics
{
    /// <summary>The sums <see cref="Backend.BradleyTerry"/> accumulates into its statistics, in this order.</summary>
    public const int Count = 4;
    public const int Correct = 0, ChosenSum = 1, RejectedSum = 2, SquareSum = 3;

    /// <summary>
    /// For scores [chosen…, rejected…] of <paramref name="margins"/>.Length pairs: the summed loss Σ softplus(−d) + c·s²,
    /// d = r_c − r_r − m, s = r_c + r_r, c = <paramref name="centering"/>, the gradient of (summed loss /
    /// <paramref name="gradientPairs"/>) with respect to each score, and the statistics (pairs with r_c &gt; r_r, Σ r_c, Σ r_r,
    /// Σ r² over all scores).
    /// </summary>
    public static (double LossSum, double[] Gradient, double[] Statistics) Compute(ReadOnlySpan<double> scores, ReadOnlySpan<double> margins, double centering,
        double gradientPairs)
    {
        int pairs = margins.Length;
        var gradient = new double[2 * pairs];
        var statistics = new double[Count];
        double lossSum = 0;
        for (int i = 0; i < pairs; i++)
        {
            double chosen = scores[i], rejected = scores[pairs + i], d = chosen - rejected - margins[i], level = chosen + rejected;
            double sigmoid = SigmoidOfNegative(d), pull = 2 * centering * level;
            lossSum += Softplus(-d) + centering * level * level;
            gradient[i] = (pull - sigmoid) / gradientPairs;
            gradient[pairs + i] = (pull + sigmoid) / gradientPairs;
            statistics[Correct] += chosen > rejected ? 1 : 0;
            statistics[ChosenSum] += chosen;
            statistics[RejectedSum] += rejected;
            statistics[SquareSum] += chosen * chosen + rejected * rejected;
        }
        return (lossSum, gradient, statistics);
    }

    /// <summary>log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|): eˣ is never formed, so a score gap of thousands cannot overflow.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>σ(−d) = 1/(1 + e^d), with the exponent kept ≤ 0.</summary>
    public static double SigmoidOfNegative(double d) => d >= 0 ? Math.Exp(-d) / (1 + Math.Exp(-d)) : 1 / (1 + Math.Exp(d));
}
