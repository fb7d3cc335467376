using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class ValueLossTests
{
    private const double CliprangeValue = 0.2;
    private const double VfCoef = 0.1;

    [Fact]
    public void Each_regime_of_the_clip_takes_the_larger_error_and_its_gradient()
    {
        // c = 0.2, vf_coef = 0.1, N = 4 (then a NaN padding slot); V_c = V_old + clip(V − V_old, ±0.2):
        //   V = 1.1, V_old = 1, R = 2: inside the clip, (−0.9)² = 0.81,             ∂/∂V = 0.1·(−0.9)/4 = −0.0225
        //   V = 1.5, V_old = 1, R = 2: (−0.5)² = 0.25 vs (1.2 − 2)² = 0.64 → 0.64 clipped, gradient 0
        //   V = 1.5, V_old = 1, R = 1: (0.5)² = 0.25 vs (1.2 − 1)² = 0.04  → 0.25,         ∂/∂V = 0.1·0.5/4 = 0.0125
        //   V = 0.5, V_old = 1, R = 0: (0.5)² = 0.25 vs (0.8 − 0)² = 0.64  → 0.64 clipped, gradient 0
        // Unweighted loss 0.5·(0.81 + 0.64 + 0.25 + 0.64)/4 = 0.2925; loss 0.1·0.2925; clip fraction 2/4.
        var layout = new ResponseLayout(5, [4]);
        double[] values = [1.1, 1.5, 1.5, 0.5, double.NaN];
        double[] oldValues = [1, 1, 1, 1, double.NaN];
        double[] returns = [2, 2, 1, 0, double.NaN];

        var loss = ValueLoss.Compute(layout, values, oldValues, returns, CliprangeValue, VfCoef);

        Assert.Equal(0.2925, loss.UnweightedLoss, 1e-15);
        Assert.Equal(0.02925, loss.Loss, 1e-15);
        Assert.Equal([-0.0225, 0, 0.0125, 0, 0], loss.ValueGradient, new ToleranceComparer(1e-15));
        Assert.Equal(0.5, loss.ClipFraction);
    }

    [Fact]
    public void A_prediction_inside_the_clip_range_is_never_counted_as_clipped()
    {
        // V = 1e-17 moved 0.1 from V_old = 0.1, inside the range: rebuilt as V_old + (V − V_old) it becomes
        // 0.1 − 0.09999999999999999 = 1.39e-17, whose error against R = −1e-16 is the larger one, and the token
        // would pass for clipped and lose its gradient.
        var layout = new ResponseLayout(1, [1]);
        var loss = ValueLoss.Compute(layout, [1e-17], [0.1], [-1e-16], CliprangeValue, VfCoef);

        Assert.Equal(0.0, loss.ClipFraction);
        Assert.Equal(VfCoef * (1e-17 + 1e-16), loss.ValueGradient[0]);
    }

    [Fact]
    public void The_gradient_matches_finite_differences_of_the_loss_on_random_ragged_batches()
    {
        var random = new Random(23);
        var layout = PaddedBatch.RandomLayout(random, rows: 6, width: 9);
        var oldValues = PaddedBatch.Random(random, layout, -2, 2);
        var returns = PaddedBatch.Random(random, layout, -2, 2);
        var values = (double[])oldValues.Clone();
        // Moves of ±0.5 cover every regime; keep 1e-3 away from the kinks, the clip's edges and, where the clip binds,
        // equal clipped and unclipped errors.
        bool NearAKink(double value, double oldValue, double target)
        {
            double move = Math.Abs(value - oldValue);
            double clippedError = Math.Clamp(value, oldValue - CliprangeValue, oldValue + CliprangeValue) - target;
            return Math.Abs(move - CliprangeValue) < 1e-3 || (move > CliprangeValue && Math.Abs(Math.Abs(value - target) - Math.Abs(clippedError)) < 1e-3);
        }
        foreach (int i in PaddedBatch.RealSlots(layout))
        {
            do values[i] = oldValues[i] + random.NextDouble() - 0.5;
            while (NearAKink(values[i], oldValues[i], returns[i]));
        }

        var loss = ValueLoss.Compute(layout, values, oldValues, returns, CliprangeValue, VfCoef);

        Assert.InRange(loss.ClipFraction, 0.1, 0.9); // both branches were exercised
        foreach (int i in PaddedBatch.RealSlots(layout))
        {
            double numeric = NumericalGradient.Central(v => ValueLoss.Compute(layout, v, oldValues, returns, CliprangeValue, VfCoef).Loss, values, i, h: 1e-6);
            Assert.Equal(numeric, loss.ValueGradient[i], 1e-9);
        }
        Assert.All(PaddedBatch.PaddingSlots(layout), i => Assert.Equal(0.0, loss.ValueGradient[i]));
    }
}
