namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// The reward model's pairwise loss on its scalar outputs (TRL's RewardTrainer): per pair −log σ(r_c − r_r − m), batch
/// mean, with the gradients that seed the reward model's backward and the numbers it logs.
/// </summary>
/// <param name="Loss">mean over pairs of softplus(−(r_c − r_r − m)), finite for any finite scores.</param>
/// <param name="ChosenGradient">∂Loss/∂r_c per pair: −σ(−(r_c − r_r − m))/N, N the pairs of the whole batch.</param>
/// <param name="RejectedGradient">∂Loss/∂r_r per pair: the negation of the chosen one.</param>
/// <param name="Accuracy">Share of pairs with r_c &gt; r_r strictly (rewards/accuracies).</param>
/// <param name="MeanMargin">mean r_c − r_r (rewards/margins).</param>
/// <param name="RewardMean">Mean of all 2N scores, chosen and rejected.</param>
/// <param name="RewardStd">Sample standard deviation of all 2N scores (with the mean, what PPO's reward normalisation starts from).</param>
public sealed record BradleyTerryLoss(double Loss, double[] ChosenGradient, double[] RejectedGradient, double Accuracy, double MeanMargin,
    double RewardMean, double RewardStd)
{
    /// <param name="margins">Per pair m (TRL's optional margin column); empty means 0 for every pair.</param>
    /// <param name="batchPairs">The pairs of the whole batch when these are one data-parallel rank's share of it (the
    /// gradient divides by them); null: these pairs are the batch. Loss, accuracy and margins stay means over these pairs.</param>
    public static BradleyTerryLoss Compute(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<double> margins = default,
        int? batchPairs = null)
    {
        if (chosen.IsEmpty || rejected.Length != chosen.Length || !(margins.IsEmpty || margins.Length == chosen.Length))
            throw new ArgumentException($"the Bradley–Terry loss needs as many chosen as rejected scores (and margins, if any), at least one; got {chosen.Length}, {rejected.Length} and {margins.Length}");
        if (batchPairs < chosen.Length) throw new ArgumentException($"a share of {chosen.Length} pairs cannot come from a batch of {batchPairs}");
        double n = chosen.Length, gradientPairs = batchPairs ?? chosen.Length;
        var chosenGradient = new double[chosen.Length];
        var rejectedGradient = new double[chosen.Length];
        double loss = 0, correct = 0, marginSum = 0;
        for (int i = 0; i < chosen.Length; i++)
        {
            double d = chosen[i] - rejected[i] - (margins.IsEmpty ? 0 : margins[i]);
            loss += Softplus(-d);
            chosenGradient[i] = -SigmoidOfNegative(d) / gradientPairs;
            rejectedGradient[i] = -chosenGradient[i];
            if (chosen[i] > rejected[i]) correct++;
            marginSum += chosen[i] - rejected[i];
        }
        var moments = RunningMoments.Empty.Add(chosen).Add(rejected);
        return new BradleyTerryLoss(loss / n, chosenGradient, rejectedGradient, correct / n, marginSum / n, moments.Mean, moments.Std);
    }

    /// <summary>log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|): eˣ is never formed, so a score gap of thousands cannot overflow.</summary>
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>σ(−d) = 1/(1 + e^d), with the exponent kept ≤ 0.</summary>
    private static double SigmoidOfNegative(double d) => d >= 0 ? Math.Exp(-d) / (1 + Math.Exp(-d)) : 1 / (1 + Math.Exp(d));
}
