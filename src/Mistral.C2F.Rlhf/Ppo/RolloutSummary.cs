namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>What a batch of rollouts earned, as TRL summarises it: per-response sums over real tokens, averaged over responses.</summary>
/// <param name="Kl">mean Σ_t KL_t (objective/kl; what the adaptive KL controller observes).</param>
/// <param name="Entropy">mean Σ_t −log π_t of the sampled tokens (objective/entropy).</param>
/// <param name="NonScoreReward">mean Σ_t −β·KL_t (objective/non_score_reward).</param>
/// <param name="Score">mean placed score (objective/scores).</param>
/// <param name="RlhfReward">Score + NonScoreReward (objective/rlhf_reward).</param>
/// <param name="EosCount">Responses that ended with EOS (val/num_eos_tokens); the others were cut at the limit.</param>
/// <param name="MeanLength">mean real tokens per response (response_length, as OpenRLHF): watch it for length drift.</param>
public sealed record RolloutSummary(double Kl, double Entropy, double NonScoreReward, double Score, double RlhfReward, int EosCount, double MeanLength)
{
    /// <param name="logProbs">log π of the sampled tokens at rollout time.</param>
    /// <param name="kl">The per-token KL estimates the rewards were built from.</param>
    public static RolloutSummary Compute(ResponseLayout layout, ReadOnlySpan<double> logProbs, ReadOnlySpan<double> kl, TokenRewards rewards,
        ReadOnlySpan<bool> endsWithEos)
    {
        layout.RequireSlots(logProbs.Length, "log-probs");
        layout.RequireSlots(kl.Length, "KL estimates");
        layout.RequireSlots(rewards.NonScoreRewards.Length, "non-score rewards");
        layout.RequireRows(rewards.Scores.Length, "scores");
        layout.RequireRows(endsWithEos.Length, "EOS flags");
        double klSum = 0, negativeLogProbSum = 0, nonScoreSum = 0, scoreSum = 0;
        for (int row = 0; row < layout.Rows; row++)
        {
            for (int i = layout.Start(row); i <= layout.Last(row); i++)
            {
                klSum += kl[i];
                negativeLogProbSum -= logProbs[i];
                nonScoreSum += rewards.NonScoreRewards[i];
            }
            scoreSum += rewards.Scores[row];
        }
        double rows = layout.Rows;
        return new RolloutSummary(klSum / rows, negativeLogProbSum / rows, nonScoreSum / rows, scoreSum / rows, (scoreSum + nonScoreSum) / rows,
            endsWithEos.Count(true), layout.TokenCount / rows);
    }
}
