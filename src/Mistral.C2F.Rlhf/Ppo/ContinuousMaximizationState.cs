namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// Continuous Maximization between iterations: the current rollout length limit and the running moments of the scores
/// (for s_R). An immutable value; serialising it is its checkpoint.
/// </summary>
public sealed record ContinuousMaximizationState(int LengthLimit, RunningMoments Scores)
{
    public static ContinuousMaximizationState Start(ContinuousMaximizationOptions options) => new(options.InitialLengthLimit, RunningMoments.Empty);

    /// <summary>
    /// One iteration's update: adds the scores to the running moments (so s_R covers this iteration too and is
    /// defined from the first one), computes the gate and the next limit, which never shrinks and never passes L_max.
    /// </summary>
    /// <param name="scores">Per rollout, the score as it entered the rewards (normalised and penalised as configured), so
    /// that it is in the critic's units.</param>
    /// <param name="firstTokenValues">Per rollout, the critic's value at its first response token, recorded at rollout time.</param>
    /// <param name="truncated">Per rollout, whether it was cut at the limit (no EOS).</param>
    public ContinuousMaximizationUpdate Update(ContinuousMaximizationOptions options, ReadOnlySpan<double> scores, ReadOnlySpan<double> firstTokenValues,
        ReadOnlySpan<bool> truncated)
    {
        if (scores.IsEmpty || firstTokenValues.Length != scores.Length || truncated.Length != scores.Length)
            throw new ArgumentException($"Continuous Maximization needs one score, first-token value and truncation flag per rollout; got {scores.Length}, {firstTokenValues.Length} and {truncated.Length}");
        if (LengthLimit < 1 || LengthLimit > options.MaxLengthLimit)
            throw new ArgumentException($"the length limit {LengthLimit} is outside 1…{options.MaxLengthLimit}: were the options changed on resume?");
        var moments = Scores.Add(scores);
        double meanScore = Mean(scores), meanFirstValue = Mean(firstTokenValues);
        double truncationRate = (double)truncated.Count(true) / truncated.Length;
        double logit = options.RewardGain * (meanScore - meanFirstValue) / (moments.Std + options.Epsilon)
            + options.TruncationGain * (truncationRate - options.TargetTruncationRate);
        if (double.IsNaN(logit)) throw new ArgumentException("Continuous Maximization: a score or value is not finite");
        double gate = 1 / (1 + Math.Exp(-logit));
        int next = options.FixedLimit ? LengthLimit : NextLimit(LengthLimit, options.MaxLengthLimit, options.GrowthRate * gate);
        return new ContinuousMaximizationUpdate(meanScore, meanFirstValue, moments.Std, truncationRate, gate, LengthLimit, next,
            new ContinuousMaximizationState(next, moments));
    }

    /// <summary>clamp(round(L·(1 + growth)), L, L_max), rounding halves up; clamped before the conversion so it cannot overflow.</summary>
    private static int NextLimit(int limit, int maxLimit, double growth) =>
        (int)Math.Clamp(Math.Round(limit * (1 + growth), MidpointRounding.AwayFromZero), limit, maxLimit);

    private static double Mean(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (var x in values) sum += x;
        return sum / values.Length;
    }
}
