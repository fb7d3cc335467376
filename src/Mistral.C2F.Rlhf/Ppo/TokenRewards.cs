namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// The per-token rewards of a batch of rollouts: −β·KL_t on every real token, plus the reward-model score on the
/// last real token of each response (the EOS when one was generated, never a padding slot).
/// </summary>
/// <param name="Rewards">Per slot; 0 on padding.</param>
/// <param name="NonScoreRewards">Per slot, the KL part −β·KL_t alone (TRL's non_score_reward), before any whitening.</param>
/// <param name="Scores">Per response, the score that was placed: the reward model's, less missing_eos_penalty where no EOS was generated.</param>
public sealed record TokenRewards(double[] Rewards, double[] NonScoreRewards, double[] Scores)
{
    /// <param name="kl">Per-token KL estimates (<see cref="KlEstimate.Tokens"/>).</param>
    /// <param name="scores">Reward-model score per response, already normalised when normalisation is on.</param>
    /// <param name="endsWithEos">Per response, whether its last real token is EOS (<see cref="ResponseLayout.EndsWith"/>).</param>
    /// <param name="klCoef">β, the KL controller's current coefficient.</param>
    /// <param name="missingEosPenalty">Subtracted from the score of responses without EOS; null turns it off.</param>
    /// <param name="whitenRewards">Whiten the rewards over the batch's real tokens, keeping their mean (TRL's whiten_rewards).</param>
    public static TokenRewards Compute(ResponseLayout layout, ReadOnlySpan<double> kl, ReadOnlySpan<double> scores, ReadOnlySpan<bool> endsWithEos,
        double klCoef, double? missingEosPenalty, bool whitenRewards)
    {
        layout.RequireSlots(kl.Length, "KL estimates");
        layout.RequireRows(scores.Length, "scores");
        layout.RequireRows(endsWithEos.Length, "EOS flags");
        var rewards = new double[layout.Slots];
        var nonScore = new double[layout.Slots];
        var placed = new double[layout.Rows];
        for (int row = 0; row < layout.Rows; row++)
        {
            for (int i = layout.Start(row); i <= layout.Last(row); i++) rewards[i] = nonScore[i] = -klCoef * kl[i];
            placed[row] = endsWithEos[row] || missingEosPenalty is null ? scores[row] : scores[row] - missingEosPenalty.Value;
            rewards[layout.Last(row)] += placed[row];
        }
        if (whitenRewards) MaskedWhitening.WhitenInPlace(layout, rewards, shiftMean: false);
        return new TokenRewards(rewards, nonScore, placed);
    }
}
