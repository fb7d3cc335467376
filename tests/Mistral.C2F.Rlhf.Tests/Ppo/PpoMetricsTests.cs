using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class PpoMetricsTests
{
    private static RolloutSummary Rollout()
    {
        // Two responses in rows of 3: log π −1, −2 (EOS) | −0.5 (cut); KL 0.3, 0.1 | −0.2; β = 0.5; scores 1, 2, penalty 1.
        var layout = PaddedBatch.Layout(3, [-1.0, -2.0], [-0.5]);
        var kl = PaddedBatch.Flatten(3, [0.3, 0.1], [-0.2]);
        bool[] endsWithEos = [true, false];
        var rewards = TokenRewards.Compute(layout, kl, [1.0, 2.0], endsWithEos, klCoef: 0.5, missingEosPenalty: 1.0, whitenRewards: false);
        return RolloutSummary.Compute(layout, PaddedBatch.Flatten(3, [-1.0, -2.0], [-0.5]), kl, rewards, endsWithEos);
    }

    [Fact]
    public void The_rollout_summary_averages_per_response_sums()
    {
        // KL sums 0.4 | −0.2 → 0.1; −log π sums 3 | 0.5 → 1.75; −β·KL sums −0.2 | 0.1 → −0.05;
        // placed scores 1 | 2 − 1 → 1; rlhf reward 1 − 0.05; one EOS; lengths 2, 1.
        var rollout = Rollout();

        Assert.Equal(0.1, rollout.Kl, 1e-15);
        Assert.Equal(1.75, rollout.Entropy, 1e-15);
        Assert.Equal(-0.05, rollout.NonScoreReward, 1e-15);
        Assert.Equal(1.0, rollout.Score);
        Assert.Equal(0.95, rollout.RlhfReward, 1e-15);
        Assert.Equal((1, 1.5), (rollout.EosCount, rollout.MeanLength));
    }

    [Fact]
    public void Metrics_carry_trls_keys_and_mini_batch_means()
    {
        var updates = new PpoUpdateStatistics();
        // Two mini-batches of 10 tokens, as sums (policy: surrogate, clipped, Σ (log ρ)², Σ ρ, Σ H; value: Σ squared error, clipped):
        // means 1 and 3 (policy loss), 0.2 and 0.4 (clipped), 0.01 and 0.03 (approx KL), 1.0 and 1.2 (ratio), 2 and 4 (entropy),
        // 1 and 3 (value loss, ½·mean squared error), 0.5 and 0.1 (value clipped).
        updates.Add([10, 2, 0.2, 10, 20], [20, 5], tokens: 10);
        updates.Add([30, 4, 0.6, 12, 40], [60, 1], tokens: 10);
        var lengthLimit = new ContinuousMaximizationUpdate(1, 0.5, 1, TruncationRate: 0.25, Gate: 0.7, LimitBefore: 256, LimitAfter: 274,
            new ContinuousMaximizationState(274, RunningMoments.Empty));

        var metrics = PpoMetrics.Collect(Rollout(), klCoef: 0.5, updates, lengthLimit);

        var expected = new Dictionary<string, double>
        {
            ["objective/kl"] = 0.1, ["objective/kl_coef"] = 0.5, ["objective/entropy"] = 1.75, ["objective/non_score_reward"] = -0.05,
            ["objective/rlhf_reward"] = 0.95, ["objective/scores"] = 1.0, ["policy/approxkl_avg"] = 0.02, ["policy/clipfrac_avg"] = 0.3,
            ["policy/entropy_avg"] = 3, ["loss/policy_avg"] = 2, ["loss/value_avg"] = 2, ["val/clipfrac_avg"] = 0.3, ["val/ratio"] = 1.1,
            ["val/num_eos_tokens"] = 1, ["response_length"] = 1.5, ["cm/length_limit"] = 256, ["cm/next_length_limit"] = 274, ["cm/gate"] = 0.7,
            ["cm/truncation_rate"] = 0.25,
        };
        Assert.Equal(expected.Keys.Order(), metrics.Keys.Order());
        Assert.All(expected, pair => Assert.Equal(pair.Value, metrics[pair.Key], 1e-15));
    }

    [Fact]
    public void Statistics_without_updates_refuse_to_report_and_sums_of_the_wrong_count_are_refused()
    {
        Assert.Throws<InvalidOperationException>(() => new PpoUpdateStatistics().PolicyLoss);
        Assert.Throws<ArgumentException>(() => new PpoUpdateStatistics().Add([1, 2, 3], [1, 2], tokens: 1));
    }
}
