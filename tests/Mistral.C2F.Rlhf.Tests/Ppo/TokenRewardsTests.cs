using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class TokenRewardsTests
{
    // Three responses in rows of 4 slots: 2 real tokens (ended with EOS), 4 (cut at the limit, no EOS), 1 (EOS at once).
    private static readonly double[][] Kl = [[0.5, -0.2], [0.1, 0.2, 0.3, 0.4], [1.0]];
    private static readonly ResponseLayout Layout = PaddedBatch.Layout(4, Kl);
    private static readonly double[] Scores = [1.0, 2.0, -1.0];
    private static readonly bool[] EndsWithEos = [true, false, true];
    private static readonly ToleranceComparer Exact = new(1e-15);

    private static TokenRewards Compute(double? missingEosPenalty, bool whiten = false) =>
        TokenRewards.Compute(Layout, PaddedBatch.Flatten(4, Kl), Scores, EndsWithEos, klCoef: 0.1, missingEosPenalty, whiten);

    [Fact]
    public void The_score_lands_on_the_last_real_token_and_the_eos_penalty_on_responses_without_eos()
    {
        var rewards = Compute(missingEosPenalty: 0.5);

        // −0.1·KL on every real token; + score on the last one: row 0 slot 1 (1.0), row 1 slot 3 (2.0 − 0.5 penalty),
        // row 2 slot 0 (−1.0). Padding right after a last token (row 0 slot 2, row 2 slot 1) stays 0.
        Assert.Equal([-0.05, 0.02 + 1.0, 0, 0, -0.01, -0.02, -0.03, -0.04 + 1.5, -0.1 - 1.0, 0, 0, 0], rewards.Rewards, Exact);
        Assert.Equal([-0.05, 0.02, 0, 0, -0.01, -0.02, -0.03, -0.04, -0.1, 0, 0, 0], rewards.NonScoreRewards, Exact);
        Assert.Equal([1.0, 1.5, -1.0], rewards.Scores);
    }

    [Fact]
    public void Without_a_penalty_the_score_is_placed_unchanged()
    {
        var rewards = Compute(missingEosPenalty: null);

        Assert.Equal(-0.04 + 2.0, rewards.Rewards[7], 1e-15);
        Assert.Equal(Scores, rewards.Scores);
    }

    [Fact]
    public void Whitened_rewards_keep_their_mean_and_have_unit_variance_over_real_tokens()
    {
        var raw = Compute(missingEosPenalty: 0.5).Rewards;
        var whitened = Compute(missingEosPenalty: 0.5, whiten: true).Rewards;

        var realSlots = PaddedBatch.RealSlots(Layout).ToArray();
        double rawMean = realSlots.Average(i => raw[i]), mean = realSlots.Average(i => whitened[i]);
        Assert.Equal(rawMean, mean, 1e-14);
        Assert.Equal(1.0, realSlots.Sum(i => (whitened[i] - mean) * (whitened[i] - mean)) / (realSlots.Length - 1), 1e-7);
        Assert.All(PaddedBatch.PaddingSlots(Layout), i => Assert.Equal(0.0, whitened[i]));
    }
}
