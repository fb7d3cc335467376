using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class GeneralizedAdvantagesTests
{
    private static readonly ToleranceComparer Exact = new(1e-14);

    private static GeneralizedAdvantages Compute(int width, double[][] rewards, double[][] values, double gamma, double lam) =>
        GeneralizedAdvantages.Compute(PaddedBatch.Layout(width, rewards), PaddedBatch.Flatten(width, rewards), PaddedBatch.Flatten(width, values), gamma, lam);

    [Fact]
    public void With_gamma_and_lambda_one_returns_are_the_reward_to_go()
    {
        // Rewards 1, 2, 3: reward-to-go 6, 5, 3 whatever the values; advantages = reward-to-go − V.
        var gae = Compute(3, [[1.0, 2.0, 3.0]], [[0.5, 0.25, 0.125]], gamma: 1, lam: 1);

        Assert.Equal([6.0, 5.0, 3.0], gae.Returns, Exact);
        Assert.Equal([5.5, 4.75, 2.875], gae.Advantages, Exact);
    }

    [Fact]
    public void With_lambda_one_returns_are_the_discounted_reward_to_go()
    {
        // γ = 0.5: R₂ = 3, R₁ = 2 + 0.5·3 = 3.5, R₀ = 1 + 0.5·3.5 = 2.75.
        var gae = Compute(3, [[1.0, 2.0, 3.0]], [[0.5, 0.25, 0.125]], gamma: 0.5, lam: 1);

        Assert.Equal([2.75, 3.5, 3.0], gae.Returns, Exact);
    }

    [Fact]
    public void With_lambda_below_one_advantages_blend_the_td_errors()
    {
        // γ = 1, λ = 0.5, r = 1, 0, 2, V = 0.5, 1, 1.5:
        // δ₂ = 2 − 1.5 = 0.5, δ₁ = 0 + 1.5 − 1 = 0.5, δ₀ = 1 + 1 − 0.5 = 1.5;
        // A₂ = 0.5, A₁ = 0.5 + 0.5·0.5 = 0.75, A₀ = 1.5 + 0.5·0.75 = 1.875; returns A + V = 2.375, 1.75, 2.
        var gae = Compute(3, [[1.0, 0.0, 2.0]], [[0.5, 1.0, 1.5]], gamma: 1, lam: 0.5);

        Assert.Equal([1.875, 0.75, 0.5], gae.Advantages, Exact);
        Assert.Equal([2.375, 1.75, 2.0], gae.Returns, Exact);
    }

    [Fact]
    public void Gamma_and_lambda_both_below_one()
    {
        // γ = 0.9, λ = 0.8 (γλ = 0.72), r = 0, 1, V = 1, 2: δ₁ = 1 − 2 = −1, δ₀ = 0 + 0.9·2 − 1 = 0.8;
        // A₁ = −1, A₀ = 0.8 + 0.72·(−1) = 0.08; returns 1.08, 1.
        var gae = Compute(2, [[0.0, 1.0]], [[1.0, 2.0]], gamma: 0.9, lam: 0.8);

        Assert.Equal([0.08, -1.0], gae.Advantages, Exact);
        Assert.Equal([1.08, 1.0], gae.Returns, Exact);
    }

    [Fact]
    public void Ragged_rows_end_at_their_own_last_token_and_never_read_padding()
    {
        // γ = 1, λ = 0.5. Row 0 as the λ < 1 case above, padded to 4; row 1 one token: A = r − V = 3 − 1 = 2; row 2 fills
        // the width with r = 1, V = 0: A₃ = 1, A₂ = 1 + 0.5·1 = 1.5, A₁ = 1 + 0.5·1.5 = 1.75, A₀ = 1 + 0.5·1.75 = 1.875.
        double[][] rewards = [[1.0, 0.0, 2.0], [3.0], [1.0, 1.0, 1.0, 1.0]];
        double[][] values = [[0.5, 1.0, 1.5], [1.0], [0.0, 0.0, 0.0, 0.0]];

        var gae = Compute(4, rewards, values, gamma: 1, lam: 0.5);

        Assert.Equal([1.875, 0.75, 0.5, 0, 2.0, 0, 0, 0, 1.875, 1.75, 1.5, 1.0], gae.Advantages, Exact);
        Assert.Equal([2.375, 1.75, 2.0, 0, 3.0, 0, 0, 0, 1.875, 1.75, 1.5, 1.0], gae.Returns, Exact);
    }
}
