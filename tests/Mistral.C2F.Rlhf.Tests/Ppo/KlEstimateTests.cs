using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class KlEstimateTests
{
    [Fact]
    public void K1_is_the_log_ratio_and_goes_negative_where_the_policy_is_less_likely()
    {
        Assert.Equal(1.0, KlEstimate.Token(KlEstimator.K1, logProb: -1, referenceLogProb: -2));
        Assert.Equal(-1.0, KlEstimate.Token(KlEstimator.K1, logProb: -2, referenceLogProb: -1));
    }

    [Fact]
    public void K3_matches_hand_values_on_both_sides()
    {
        // log r = log π_ref − log π = −1: k3 = (e⁻¹ − 1) + 1 = e⁻¹ = 0.36787944117144233.
        Assert.Equal(0.36787944117144233, KlEstimate.Token(KlEstimator.K3, logProb: -1, referenceLogProb: -2), 1e-15);
        // log r = +1: k3 = (e − 1) − 1 = 0.7182818284590451; positive where k1 is −1.
        Assert.Equal(0.7182818284590451, KlEstimate.Token(KlEstimator.K3, logProb: -2, referenceLogProb: -1), 1e-15);
    }

    [Theory]
    [InlineData(1e-3)]
    [InlineData(-1e-3)]
    [InlineData(1e-7)]
    public void K3_keeps_its_digits_when_the_policy_is_close_to_the_reference(double logRatio)
    {
        // e^x − 1 − x = x²/2 + x³/6 + x⁴/24 + x⁵/120 + …; e^x − 1 − x evaluated directly keeps no digit at x = 1e-7.
        double x = logRatio;
        double series = x * x / 2 + x * x * x / 6 + x * x * x * x / 24 + Math.Pow(x, 5) / 120 + Math.Pow(x, 6) / 720 + Math.Pow(x, 7) / 5040;
        double k3 = KlEstimate.Token(KlEstimator.K3, logProb: 0, referenceLogProb: x); // log π = 0 keeps log r exactly x
        Assert.Equal(1.0, k3 / series, 1e-12);
    }

    [Fact]
    public void K3_is_never_negative_on_random_inputs()
    {
        var random = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            double logProb = -10 * random.NextDouble();
            double gap = Math.Pow(10, -12 * random.NextDouble()) * (random.Next(2) == 0 ? -1 : 1) * 5 * random.NextDouble();
            Assert.True(KlEstimate.Token(KlEstimator.K3, logProb, logProb + gap) >= 0, $"k3 < 0 at log π = {logProb}, log r = {gap}");
        }
    }

    [Fact]
    public void Batch_estimates_fill_real_tokens_and_leave_zero_on_padding()
    {
        var layout = PaddedBatch.Layout(3, [-1.0, -2.0], [-0.5]);
        var logProbs = PaddedBatch.Flatten(3, [-1.0, -2.0], [-0.5]);
        var referenceLogProbs = PaddedBatch.Flatten(3, [-2.0, -1.0], [-0.5]);

        Assert.Equal([1.0, -1.0, 0, 0, 0, 0], KlEstimate.Tokens(KlEstimator.K1, layout, logProbs, referenceLogProbs));
        Assert.Equal([Math.Exp(-1), Math.E - 2, 0, 0, 0, 0], KlEstimate.Tokens(KlEstimator.K3, layout, logProbs, referenceLogProbs), new ToleranceComparer(1e-15));
    }
}
