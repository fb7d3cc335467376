using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>
/// PPO's two losses as the host defines them (<see cref="PpoLosses"/>, what every backend's op is checked against):
/// hand values in each regime of the clips, finite differences on random rows, skipped rows, the entropy bonus.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class PpoLossesTests
{
    private const double Cliprange = 0.2, CliprangeValue = 0.2, VfCoef = 0.1;

    [Fact]
    public void Each_regime_of_the_policy_clip_takes_the_pessimistic_term_and_its_gradient()
    {
        // ε = 0.2, one row per regime (then a skipped row holding NaN), N = 5:
        //   A = +2, ρ = 1.1 (inside):  −2.2 vs −2.2          → −2.2, ∂/∂log π = −A·ρ = −2.2
        //   A = +2, ρ = 1.5 (above):   −3.0 vs −2·1.2 = −2.4 → −2.4 clipped, gradient 0
        //   A = +2, ρ = 0.5 (below):   −1.0 vs −2·0.8 = −1.6 → −1.0 unclipped, gradient −1.0
        //   A = −2, ρ = 1.5 (above):   +3.0 vs +2.4          → +3.0 unclipped, gradient +3.0
        //   A = −2, ρ = 0.5 (below):   +1.0 vs +1.6          → +1.6 clipped, gradient 0
        // Σ surrogate = −1.0; 2 clipped; Σ ρ = 5.1; entropies 1…5 (Σ 15), c = 0.01: loss −1.0 − 0.15, ∂/∂H = −0.01/5.
        double[] ratios = [1.1, 1.5, 0.5, 1.5, 0.5];
        double[] old = [-1, -2, -3, -0.5, -1.5, double.NaN];
        double[] logProbs = [.. old[..5].Select((o, i) => o + Math.Log(ratios[i])), double.NaN];
        double[] entropy = [1, 2, 3, 4, 5, double.NaN];

        var (loss, logProbGradient, entropyGradient, sums) = PpoLosses.Policy(logProbs, entropy, old, [2, 2, 2, -2, -2, double.NaN], [7, 7, 7, 7, 7, -1],
            new PpoLossSettings(Cliprange, 0.01, 5));

        Assert.Equal(-1.15, loss, 1e-13);
        double[] expected = [-2.2 / 5, 0, -1.0 / 5, 3.0 / 5, 0, 0];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], logProbGradient[i], 1e-14);
        Assert.Equal([-0.002, -0.002, -0.002, -0.002, -0.002, 0], entropyGradient);
        Assert.Equal(-1.0, sums[PpoLosses.PolicySum], 1e-13);
        Assert.Equal(2, sums[PpoLosses.PolicyClipped]);
        Assert.Equal(5.1, sums[PpoLosses.RatioSum], 1e-13);
        Assert.Equal(ratios.Sum(r => Math.Log(r) * Math.Log(r)), sums[PpoLosses.SquaredLogRatioSum], 1e-13);
        Assert.Equal(15, sums[PpoLosses.EntropySum]);
    }

    [Fact]
    public void An_unchanged_policy_has_ratio_one_and_no_clipping_and_a_zero_coefficient_seeds_no_entropy_gradient()
    {
        double[] logProbs = [-1, -2, -3, -4];
        var (loss, _, entropyGradient, sums) = PpoLosses.Policy(logProbs, [0.5, 1.5, 1, 1], logProbs, [1, -2, 4, 3], [1, 1, 1, 1],
            new PpoLossSettings(Cliprange, 0, 4));

        Assert.Equal(-(1 - 2 + 4 + 3), loss);
        Assert.Equal((0.0, 0.0, 4.0), (sums[PpoLosses.PolicyClipped], sums[PpoLosses.SquaredLogRatioSum], sums[PpoLosses.RatioSum]));
        Assert.All(entropyGradient, g => Assert.Equal(0.0, g));
    }

    [Fact]
    public void The_policy_gradient_matches_finite_differences_on_random_rows()
    {
        var random = new Random(17);
        const int rows = 40;
        const double tokens = 55; // a share of a larger mini-batch
        var targets = Enumerable.Range(0, rows).Select(_ => random.Next(4) == 0 ? -1 : 1).ToArray();
        var old = Enumerable.Range(0, rows).Select(_ => -4 * random.NextDouble()).ToArray();
        var advantages = Enumerable.Range(0, rows).Select(_ => 4 * random.NextDouble() - 2).ToArray();
        var entropy = new double[rows];
        var logProbs = old.Select(o =>
        {
            // Log-ratios in ±0.5 cover every regime; keep 1e-3 away from the clip's kinks, where the loss is not differentiable.
            double x;
            do x = o + random.NextDouble() - 0.5;
            while (Math.Abs(Math.Abs(Math.Exp(x - o) - 1) - Cliprange) < 1e-3);
            return x;
        }).ToArray();
        var settings = new PpoLossSettings(Cliprange, 0, tokens);
        double Loss(double[] x) => PpoLosses.Policy(x, entropy, old, advantages, targets, settings).LossSum / tokens;

        var (_, gradient, _, sums) = PpoLosses.Policy(logProbs, entropy, old, advantages, targets, settings);

        Assert.InRange(sums[PpoLosses.PolicyClipped], 3, targets.Count(t => t >= 0) - 3); // both branches were exercised
        for (int i = 0; i < rows; i++) Assert.Equal(Central(Loss, logProbs, i), gradient[i], 1e-9);
    }

    [Fact]
    public void Each_regime_of_the_value_clip_takes_the_larger_error_and_its_gradient()
    {
        // c = 0.2, vf_coef = 0.1, N = 4 (then a skipped row holding NaN); clipped V = clamp(V, V_old ± 0.2):
        //   V = 1.1, V_old = 1, R = 2: inside the clip, (−0.9)² = 0.81,             ∂/∂V = 0.1·(−0.9)/4 = −0.0225
        //   V = 1.5, V_old = 1, R = 2: (−0.5)² = 0.25 vs (1.2 − 2)² = 0.64 → 0.64 clipped, gradient 0
        //   V = 1.5, V_old = 1, R = 1: (0.5)² = 0.25 vs (1.2 − 1)² = 0.04  → 0.25,         ∂/∂V = 0.1·0.5/4 = 0.0125
        //   V = 0.5, V_old = 1, R = 0: (0.5)² = 0.25 vs (0.8 − 0)² = 0.64  → 0.64 clipped, gradient 0
        // Σ max = 2.34; loss 0.1·½·2.34 = 0.117; 2 clipped.
        var (loss, gradient, sums) = PpoLosses.Value([1.1, 1.5, 1.5, 0.5, double.NaN], [1, 1, 1, 1, double.NaN], [2, 2, 1, 0, double.NaN], [3, 3, 3, 3, -1],
            new PpoLossSettings(CliprangeValue, VfCoef, 4));

        Assert.Equal(0.117, loss, 1e-15);
        Assert.Equal(2.34, sums[PpoLosses.SquaredErrorSum], 1e-14);
        Assert.Equal(2, sums[PpoLosses.ValueClipped]);
        double[] expected = [-0.0225, 0, 0.0125, 0, 0];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], gradient[i], 1e-15);
    }

    [Fact]
    public void A_value_inside_the_clip_range_is_never_counted_as_clipped()
    {
        // V = 1e-17 moved 0.1 from V_old = 0.1, inside the range: rebuilt as V_old + (V − V_old) it becomes
        // 0.1 − 0.09999999999999999 = 1.39e-17, whose error against R = −1e-16 is the larger one, and the row
        // would pass for clipped and lose its gradient.
        var (_, gradient, sums) = PpoLosses.Value([1e-17], [0.1], [-1e-16], [1], new PpoLossSettings(CliprangeValue, VfCoef, 1));

        Assert.Equal(0.0, sums[PpoLosses.ValueClipped]);
        Assert.Equal(VfCoef * (1e-17 + 1e-16), gradient[0]);
    }

    [Fact]
    public void The_value_gradient_matches_finite_differences_on_random_rows()
    {
        var random = new Random(23);
        const int rows = 40;
        const double tokens = 55;
        var targets = Enumerable.Range(0, rows).Select(_ => random.Next(4) == 0 ? -1 : 1).ToArray();
        var old = Enumerable.Range(0, rows).Select(_ => 4 * random.NextDouble() - 2).ToArray();
        var returns = Enumerable.Range(0, rows).Select(_ => 4 * random.NextDouble() - 2).ToArray();
        // Moves of ±0.5 cover every regime; keep 1e-3 away from the kinks: the clip's edges and, where the clip binds,
        // equal clipped and unclipped errors.
        bool NearAKink(double value, double oldValue, double target)
        {
            double move = Math.Abs(value - oldValue);
            double clippedError = Math.Clamp(value, oldValue - CliprangeValue, oldValue + CliprangeValue) - target;
            return Math.Abs(move - CliprangeValue) < 1e-3 || (move > CliprangeValue && Math.Abs(Math.Abs(value - target) - Math.Abs(clippedError)) < 1e-3);
        }
        var values = old.Select((o, i) =>
        {
            double v;
            do v = o + random.NextDouble() - 0.5;
            while (NearAKink(v, o, returns[i]));
            return v;
        }).ToArray();
        var settings = new PpoLossSettings(CliprangeValue, VfCoef, tokens);
        double Loss(double[] v) => PpoLosses.Value(v, old, returns, targets, settings).LossSum / tokens;

        var (_, gradient, sums) = PpoLosses.Value(values, old, returns, targets, settings);

        Assert.InRange(sums[PpoLosses.ValueClipped], 3, targets.Count(t => t >= 0) - 3);
        for (int i = 0; i < rows; i++) Assert.Equal(Central(Loss, values, i), gradient[i], 1e-9);
    }

    [Fact]
    public void Bad_settings_and_shapes_are_refused_by_the_op()
    {
        using var backend = new Backends.Reference.ReferenceBackend();
        using var values = backend.Allocate(3);
        using var two = backend.Allocate(2);
        using var targets = backend.FromInts([1, 1, -1], 3);
        using var loss = backend.Allocate(1);
        using var statistics = backend.Allocate(PpoLosses.ValueStatistics);
        var settings = new PpoLossSettings(CliprangeValue, VfCoef, 3);
        Assert.Contains("values per row", Assert.Throws<ArgumentException>(() => backend.PpoValueLoss(values, two, values, targets, settings, values, loss, statistics)).Message);
        Assert.Contains("token count", Assert.Throws<ArgumentException>(() => backend.PpoValueLoss(values, values, values, targets, settings with { Tokens = 0 },
            values, loss, statistics)).Message);
        Assert.Contains("statistics length", Assert.Throws<ArgumentException>(() => backend.PpoValueLoss(values, values, values, targets, settings, values, loss,
            values)).Message);
    }

    private static double Central(Func<double[], double> f, double[] x, int i, double h = 1e-6)
    {
        var (plus, minus) = ((double[])x.Clone(), (double[])x.Clone());
        plus[i] += h;
        minus[i] -= h;
        return (f(plus) - f(minus)) / (2 * h);
    }
}
