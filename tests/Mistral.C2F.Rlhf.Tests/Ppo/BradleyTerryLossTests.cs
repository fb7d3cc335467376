using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class BradleyTerryLossTests
{
    [Fact]
    public void Hand_values_with_a_margin()
    {
        // Pair 1: r_c = 2, r_r = 1, m = 0: d = 1, loss log(1 + e⁻¹) = 0.31326168751822286, σ(−1) = 0.2689414213699951.
        // Pair 2: r_c = 0, r_r = 1, m = 0.5: d = −1.5, loss log(1 + e^1.5) = 1.7014132779827524, σ(1.5) = 0.8175744761936437.
        // Mean loss 1.0073374827504877; ∂/∂r_c = −σ(−d)/2; accuracy 1/2; margins 1, −1 → 0; scores 2, 0, 1, 1: mean 1, std √(2/3).
        var loss = BradleyTerryLoss.Compute([2.0, 0.0], [1.0, 1.0], [0.0, 0.5]);

        Assert.Equal(1.0073374827504877, loss.Loss, 1e-15);
        Assert.Equal([-0.2689414213699951 / 2, -0.8175744761936437 / 2], loss.ChosenGradient, new ToleranceComparer(1e-16));
        Assert.Equal([0.2689414213699951 / 2, 0.8175744761936437 / 2], loss.RejectedGradient, new ToleranceComparer(1e-16));
        Assert.Equal((0.5, 0.0, 1.0), (loss.Accuracy, loss.MeanMargin, loss.RewardMean));
        Assert.Equal(Math.Sqrt(2.0 / 3), loss.RewardStd, 1e-15);
    }

    [Fact]
    public void Without_margins_equal_scores_cost_log_two_and_count_as_wrong()
    {
        var loss = BradleyTerryLoss.Compute([0.5], [0.5]);

        Assert.Equal(Math.Log(2), loss.Loss, 1e-15);
        Assert.Equal(-0.5, loss.ChosenGradient[0], 1e-15);
        Assert.Equal(0.0, loss.Accuracy);
    }

    [Fact]
    public void Gradients_match_finite_differences_on_random_pairs()
    {
        var random = new Random(37);
        const int pairs = 16;
        double[] Scores() => Enumerable.Range(0, pairs).Select(_ => 8 * random.NextDouble() - 4).ToArray();
        double[] chosen = Scores(), rejected = Scores(), margins = Scores();

        var loss = BradleyTerryLoss.Compute(chosen, rejected, margins);

        for (int i = 0; i < pairs; i++)
        {
            Assert.Equal(NumericalGradient.Central(c => BradleyTerryLoss.Compute(c, rejected, margins).Loss, chosen, i), loss.ChosenGradient[i], 1e-10);
            Assert.Equal(NumericalGradient.Central(r => BradleyTerryLoss.Compute(chosen, r, margins).Loss, rejected, i), loss.RejectedGradient[i], 1e-10);
        }
    }

    [Fact]
    public void Huge_score_gaps_stay_finite()
    {
        // d = +1e4: loss e^−1e4 underflows to 0, no gradient. d = −1e4: loss 1e4 (e^1e4 would overflow), ∂/∂r_c = −1.
        var loss = BradleyTerryLoss.Compute([1e4, -1e4], [0.0, 0.0]);

        Assert.Equal(1e4 / 2, loss.Loss);
        Assert.Equal([0.0, -0.5], loss.ChosenGradient);
        Assert.Equal([0.0, 0.5], loss.RejectedGradient);
    }

    [Fact]
    public void Mismatched_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => BradleyTerryLoss.Compute([1.0, 2.0], [1.0]));
        Assert.Throws<ArgumentException>(() => BradleyTerryLoss.Compute([1.0], [1.0], [0.0, 0.0]));
        Assert.Throws<ArgumentException>(() => BradleyTerryLoss.Compute([], []));
    }
}
