namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>PPO's clipped surrogate loss of one mini-batch, with the gradient that seeds the actor's backward.</summary>
/// <param name="Loss">mean over real tokens of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)), ρ = exp(log π − log π_old) (TRL's loss/policy_avg).</param>
/// <param name="LogProbGradient">∂Loss/∂log π per slot: −A·ρ/N where the unclipped term is the max, 0 where the clipped one is (it is then constant); 0 on padding.</param>
/// <param name="ClipFraction">Share of real tokens whose clipped term is strictly the larger (policy/clipfrac_avg).</param>
/// <param name="ApproxKl">0.5·mean((log π − log π_old)²) over real tokens (policy/approxkl_avg).</param>
/// <param name="MeanRatio">mean ρ over real tokens (val/ratio).</param>
public sealed record PolicyLoss(double Loss, double[] LogProbGradient, double ClipFraction, double ApproxKl, double MeanRatio)
{
    /// <param name="logProbs">log π of the sampled tokens under the current policy.</param>
    /// <param name="oldLogProbs">log π_old, recorded at rollout time.</param>
    /// <param name="advantages">Whitened advantages.</param>
    /// <param name="cliprange">ε (TRL's cliprange).</param>
    public static PolicyLoss Compute(ResponseLayout layout, ReadOnlySpan<double> logProbs, ReadOnlySpan<double> oldLogProbs,
        ReadOnlySpan<double> advantages, double cliprange)
    {
        layout.RequireSlots(logProbs.Length, "log-probs");
        layout.RequireSlots(oldLogProbs.Length, "old log-probs");
        layout.RequireSlots(advantages.Length, "advantages");
        if (!(cliprange is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(cliprange), cliprange, "cliprange must be in (0, 1)");
        double n = layout.TokenCount;
        var gradient = new double[layout.Slots];
        double loss = 0, clipped = 0, squaredLogRatio = 0, ratioSum = 0;
        for (int row = 0; row < layout.Rows; row++)
        {
            for (int i = layout.Start(row); i <= layout.Last(row); i++)
            {
                double logRatio = logProbs[i] - oldLogProbs[i];
                double ratio = Math.Exp(logRatio);
                double unclippedLoss = -advantages[i] * ratio;
                double clippedLoss = -advantages[i] * Math.Clamp(ratio, 1 - cliprange, 1 + cliprange);
                if (clippedLoss > unclippedLoss)
                {
                    loss += clippedLoss;
                    clipped++;
                }
                else
                {
                    loss += unclippedLoss;
                    gradient[i] = unclippedLoss / n; // ∂(−A·ρ)/∂log π = −A·ρ
                }
                squaredLogRatio += logRatio * logRatio;
                ratioSum += ratio;
            }
        }
        return new PolicyLoss(loss / n, gradient, clipped / n, 0.5 * squaredLogRatio / n, ratioSum / n);
    }
}
