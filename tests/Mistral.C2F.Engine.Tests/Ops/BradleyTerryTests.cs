using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>The Bradley–Terry op on the float64 reference: hand values, finite differences, centering, extreme gaps and bad shapes.</summary>
[Trait("Backend", "cpu")]
public sealed class BradleyTerryTests : IDisposable
{
    private readonly ReferenceBackend _backend = new();

    public void Dispose() => _backend.Dispose();

    /// <summary>The op on scores [chosen…, rejected…] and margins, from zero totals: summed loss, gradient, statistics.</summary>
    private (double Loss, double[] Gradient, double[] Statistics) Run(double[] chosen, double[] rejected, double[] margins, double? gradientPairs = null,
        double centering = 0)
    {
        int pairs = margins.Length;
        using var scores = _backend.Allocate(new Shape(2 * pairs), DType.F64);
        _backend.Upload([.. chosen, .. rejected], scores);
        using var marginTensor = _backend.Allocate(new Shape(pairs), DType.F64);
        _backend.Upload(margins, marginTensor);
        using var gradient = _backend.Allocate(new Shape(2 * pairs), DType.F64);
        using var loss = _backend.Allocate(new Shape(1), DType.F64);
        using var statistics = _backend.Allocate(new Shape(BradleyTerryStatistics.Count), DType.F64);
        _backend.Zero(loss);
        _backend.Zero(statistics);
        _backend.BradleyTerry(scores, marginTensor, centering, gradientPairs ?? pairs, gradient, loss, statistics);
        return (_backend.ToDoubles(loss)[0], _backend.ToDoubles(gradient), _backend.ToDoubles(statistics));
    }

    [Fact]
    public void Hand_values_with_a_margin()
    {
        // Pair 1: r_c = 2, r_r = 1, m = 0: d = 1, loss log(1 + e⁻¹) = 0.31326168751822286, σ(−1) = 0.2689414213699951.
        // Pair 2: r_c = 0, r_r = 1, m = 0.5: d = −1.5, loss log(1 + e^1.5) = 1.7014132779827524, σ(1.5) = 0.8175744761936437.
        // Gradient of the mean over 2 pairs; one pair right; Σ r_c = 2, Σ r_r = 2, Σ r² = 4 + 0 + 1 + 1.
        var (loss, gradient, statistics) = Run([2.0, 0.0], [1.0, 1.0], [0.0, 0.5]);

        Assert.Equal(0.31326168751822286 + 1.7014132779827524, loss, 1e-14);
        double[] expected = [-0.2689414213699951 / 2, -0.8175744761936437 / 2, 0.2689414213699951 / 2, 0.8175744761936437 / 2];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], gradient[i], 1e-15);
        Assert.Equal([1.0, 2.0, 2.0, 6.0], statistics);
    }

    [Fact]
    public void Equal_scores_cost_log_two_and_count_as_wrong()
    {
        var (loss, gradient, statistics) = Run([0.5], [0.5], [0.0]);

        Assert.Equal(Math.Log(2), loss, 1e-15);
        Assert.Equal(-0.5, gradient[0], 1e-15);
        Assert.Equal(0.0, statistics[BradleyTerryStatistics.Correct]);
    }

    [Fact]
    public void Centering_adds_the_squared_score_sum_and_pulls_both_scores_alike()
    {
        // One pair, r_c = 2, r_r = 1, m = 0, c = 0.1: d = 1 as in the hand values above, s = 3: loss + 0.1·9 = 0.9,
        // and both gradients gain 2·0.1·3 = 0.6 (one pair, so not divided).
        var (loss, gradient, statistics) = Run([2.0], [1.0], [0.0], centering: 0.1);

        Assert.Equal(0.31326168751822286 + 0.9, loss, 1e-14);
        Assert.Equal(0.6 - 0.2689414213699951, gradient[0], 1e-15);
        Assert.Equal(0.6 + 0.2689414213699951, gradient[1], 1e-15);
        Assert.Equal([1.0, 2.0, 1.0, 5.0], statistics);
    }

    [Fact]
    public void Centering_that_is_negative_or_not_finite_is_refused()
    {
        Assert.Contains("centering", Assert.Throws<ArgumentException>(() => Run([1.0], [0.0], [0.0], centering: -0.01)).Message);
        Assert.Throws<ArgumentException>(() => Run([1.0], [0.0], [0.0], centering: double.NaN));
        Assert.Throws<ArgumentException>(() => Run([1.0], [0.0], [0.0], centering: double.PositiveInfinity));
    }

    /// <summary>The gradient is that of the summed loss over <c>gradientPairs</c>: a share of a batch of 40 pairs; without and with centering.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    public void Gradients_match_finite_differences_on_random_pairs(double centering)
    {
        var random = new Random(37);
        const int pairs = 16;
        const double batchPairs = 40, step = 1e-6;
        double[] Scores() => Enumerable.Range(0, pairs).Select(_ => 8 * random.NextDouble() - 4).ToArray();
        double[] chosen = Scores(), rejected = Scores(), margins = Scores();

        var gradient = Run(chosen, rejected, margins, batchPairs, centering).Gradient;

        for (int i = 0; i < 2 * pairs; i++)
        {
            double[] Moved(double by)
            {
                double[] scores = [.. chosen, .. rejected];
                scores[i] += by;
                return scores;
            }
            double Loss(double[] scores) => Run(scores[..pairs], scores[pairs..], margins, centering: centering).Loss / batchPairs;
            double numerical = (Loss(Moved(step)) - Loss(Moved(-step))) / (2 * step);
            Assert.Equal(numerical, gradient[i], 1e-9);
        }
    }

    [Fact]
    public void Huge_score_gaps_stay_finite()
    {
        // d = +1e4: loss e^−1e4 underflows to 0, no gradient. d = −1e4: loss 1e4 (e^1e4 would overflow), ∂/∂r_c = −1/2.
        var (loss, gradient, _) = Run([1e4, -1e4], [0.0, 0.0], [0.0, 0.0]);

        Assert.Equal(1e4, loss);
        Assert.Equal([0.0, -0.5, 0.0, 0.5], gradient);
    }

    [Fact]
    public void Mismatched_shapes_and_a_share_larger_than_its_batch_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Run([1.0, 2.0], [1.0], [0.0, 0.0]));
        Assert.Throws<ArgumentException>(() => Run([], [], []));
        var error = Assert.Throws<ArgumentException>(() => Run([1.0, 2.0], [0.0, 0.0], [0.0, 0.0], gradientPairs: 1));
        Assert.Contains("whole batch's pairs", error.Message);
    }
}
