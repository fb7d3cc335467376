using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class EntropyBonusTests
{
    [Fact]
    public void The_bonus_is_minus_the_coefficient_times_the_mean_entropy_with_a_constant_gradient_on_real_tokens()
    {
        // Real entropies 1, 2 | 3 (N = 3, mean 2), c = 0.01: loss −0.02, ∂/∂H = −0.01/3 on real tokens.
        var layout = PaddedBatch.Layout(3, [1.0, 2.0], [3.0]);
        var entropy = PaddedBatch.Flatten(3, [1.0, 2.0], [3.0]);

        var bonus = EntropyBonus.Compute(layout, entropy, coefficient: 0.01);

        Assert.Equal(-0.02, bonus.Loss, 1e-15);
        Assert.Equal(2.0, bonus.MeanEntropy, 1e-15);
        Assert.Equal([-0.01 / 3, -0.01 / 3, 0, -0.01 / 3, 0, 0], bonus.EntropyGradient);
    }

    [Fact]
    public void A_zero_coefficient_still_reports_the_entropy_and_seeds_nothing()
    {
        var layout = new ResponseLayout(2, [2]);
        var bonus = EntropyBonus.Compute(layout, [0.5, 1.5], coefficient: 0);

        Assert.Equal((0.0, 1.0), (bonus.Loss, bonus.MeanEntropy));
        Assert.All(bonus.EntropyGradient, g => Assert.Equal(0.0, g));
    }
}
