using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class PolicyLossTests
{
    private const double Cliprange = 0.2;

    [Fact]
    public void Each_regime_of_the_clip_takes_the_pessimistic_term_and_its_gradient()
    {
        // ε = 0.2, one token per regime (then a NaN padding slot), N = 5:
        //   A = +2, ρ = 1.1 (inside):  −2.2 vs −2.2          → −2.2, ∂/∂log π = −A·ρ = −2.2
        //   A = +2, ρ = 1.5 (above):   −3.0 vs −2·1.2 = −2.4 → −2.4 clipped, gradient 0
        //   A = +2, ρ = 0.5 (below):   −1.0 vs −2·0.8 = −1.6 → −1.0 unclipped, gradient −1.0
        //   A = −2, ρ = 1.5 (above):   +3.0 vs +2.4          → +3.0 unclipped, gradient +3.0
        //   A = −2, ρ = 0.5 (below):   +1.0 vs +1.6          → +1.6 clipped, gradient 0
        // Loss = (−2.2 − 2.4 − 1.0 + 3.0 + 1.6)/5 = −0.2; clip fraction 2/5; mean ratio 5.1/5 = 1.02.
        double[] ratios = [1.1, 1.5, 0.5, 1.5, 0.5];
        double[] advantages = [2, 2, 2, -2, -2];
        var layout = new ResponseLayout(6, [5]);
        double[] oldLogProbs = [-1, -2, -3, -0.5, -1.5, double.NaN];
        double[] logProbs = [.. oldLogProbs[..5].Select((old, i) => old + Math.Log(ratios[i])), double.NaN];

        var loss = PolicyLoss.Compute(layout, logProbs, oldLogProbs, [.. advantages, double.NaN], Cliprange);

        Assert.Equal(-0.2, loss.Loss, 1e-14);
        Assert.Equal([-2.2 / 5, 0, -1.0 / 5, 3.0 / 5, 0, 0], loss.LogProbGradient, new ToleranceComparer(1e-14));
        Assert.Equal(0.4, loss.ClipFraction, 1e-15);
        Assert.Equal(1.02, loss.MeanRatio, 1e-14);
        double squaredLogRatios = ratios.Sum(r => Math.Log(r) * Math.Log(r));
        Assert.Equal(0.5 * squaredLogRatios / 5, loss.ApproxKl, 1e-14);
    }

    [Fact]
    public void The_gradient_matches_finite_differences_of_the_loss_on_random_ragged_batches()
    {
        var random = new Random(17);
        var layout = PaddedBatch.RandomLayout(random, rows: 6, width: 9);
        var oldLogProbs = PaddedBatch.Random(random, layout, -4, -0.1);
        var advantages = PaddedBatch.Random(random, layout, -2, 2);
        var logProbs = (double[])oldLogProbs.Clone();
        foreach (int i in PaddedBatch.RealSlots(layout))
        {
            // Log-ratios in ±0.5 cover every regime; keep 1e-3 away from the clip's kinks, where the loss is not differentiable.
            do logProbs[i] = oldLogProbs[i] + random.NextDouble() - 0.5;
            while (Math.Abs(Math.Abs(Math.Exp(logProbs[i] - oldLogProbs[i]) - 1) - Cliprange) < 1e-3);
        }

        var loss = PolicyLoss.Compute(layout, logProbs, oldLogProbs, advantages, Cliprange);

        Assert.InRange(loss.ClipFraction, 0.1, 0.9); // both branches were exercised
        foreach (int i in PaddedBatch.RealSlots(layout))
        {
            double numeric = NumericalGradient.Central(x => PolicyLoss.Compute(layout, x, oldLogProbs, advantages, Cliprange).Loss, logProbs, i, h: 1e-6);
            Assert.Equal(numeric, loss.LogProbGradient[i], 1e-9);
        }
        Assert.All(PaddedBatch.PaddingSlots(layout), i => Assert.Equal(0.0, loss.LogProbGradient[i]));
    }

    [Fact]
    public void Unchanged_policy_has_ratio_one_no_clipping_and_the_negative_mean_advantage_as_loss()
    {
        var layout = new ResponseLayout(3, [3, 1]);
        double[] logProbs = [-1, -2, -3, -4, 0, 0];
        double[] advantages = [1, -2, 4, 3, 0, 0];

        var loss = PolicyLoss.Compute(layout, logProbs, logProbs, advantages, Cliprange);

        Assert.Equal(-(1 - 2 + 4 + 3) / 4.0, loss.Loss);
        Assert.Equal((0.0, 0.0, 1.0), (loss.ClipFraction, loss.ApproxKl, loss.MeanRatio));
    }
}
