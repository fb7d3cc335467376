using System.Text.Json;
using Mistral.C2F.Rlhf.Ppo;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class ContinuousMaximizationTests
{
    // a = 1, b = 10, γ = 0.1, τ* = 0.1, ε = 1e-8, L₀ = 100, L_max = 130.
    private static readonly ContinuousMaximizationOptions Options = new()
    {
        RewardGain = 1, TruncationGain = 10, GrowthRate = 0.1, TargetTruncationRate = 0.1, Epsilon = 1e-8, InitialLengthLimit = 100, MaxLengthLimit = 130,
    };

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    [Fact]
    public void A_few_iterations_follow_the_hand_arithmetic_and_stop_at_the_maximum()
    {
        var state = ContinuousMaximizationState.Start(Options);

        // 1. Scores 1, 3 (R̄ = 2, s_R = √2), first-token values 1, 1 (V̄ = 1), one of two cut (τ = 0.5):
        //    g = σ(1·(2 − 1)/√2 + 10·(0.5 − 0.1)) = σ(4.7071) = 0.99105; L = round(100·1.099105) = round(109.91) = 110.
        var update = state.Update(Options, [1.0, 3.0], [1.0, 1.0], [true, false]);
        Assert.Equal((2.0, 1.0, 0.5, 100, 110), (update.MeanScore, update.MeanFirstTokenValue, update.TruncationRate, update.LimitBefore, update.LimitAfter));
        Assert.Equal(Math.Sqrt(2), update.ScoreStd, 1e-15);
        Assert.Equal(Sigmoid(1 / (Math.Sqrt(2) + 1e-8) + 4), update.Gate, 1e-15);
        Assert.Equal(110, update.Next.LengthLimit);

        // 2. Scores 2, 2 (R̄ = 2; all seen 1, 3, 2, 2: s_R = √(2/3)), V̄ = 3, none cut:
        //    g = σ((2 − 3)/√(2/3) + 10·(0 − 0.1)) = σ(−2.2247) = 0.097550; L = round(110·1.0097550) = round(111.07) = 111.
        update = update.Next.Update(Options, [2.0, 2.0], [3.0, 3.0], [false, false]);
        Assert.Equal(Sigmoid(-1 / (Math.Sqrt(2.0 / 3) + 1e-8) - 1), update.Gate, 1e-15);
        Assert.Equal((110, 111), (update.LimitBefore, update.LimitAfter));

        // 3. Scores 10, 10 far above V̄ = 0 and every rollout cut: g = 0.99999; L = round(111·1.099999) = round(122.0999) = 122.
        update = update.Next.Update(Options, [10.0, 10.0], [0.0, 0.0], [true, true]);
        Assert.Equal(0.99999, update.Gate, 1e-5);
        Assert.Equal(122, update.LimitAfter);

        // 4. The same again: round(122·1.099999) = 134 is clamped to L_max = 130; 5. and it stays there.
        update = update.Next.Update(Options, [10.0, 10.0], [0.0, 0.0], [true, true]);
        Assert.Equal(130, update.LimitAfter);
        update = update.Next.Update(Options, [10.0, 10.0], [0.0, 0.0], [true, true]);
        Assert.Equal((130, 130), (update.LimitBefore, update.LimitAfter));
    }

    [Fact]
    public void A_nearly_closed_gate_keeps_the_limit_and_a_half_rounds_up()
    {
        var state = ContinuousMaximizationState.Start(Options);
        // R̄ far below V̄ and nothing cut: g ≈ 0, 100·(1 + 0.1·g) rounds back to 100.
        Assert.Equal(100, state.Update(Options, [0.0, 1.0], [50.0, 50.0], [false, false]).LimitAfter);

        // Equal scores (s_R = 0, the ε keeps 0/0 away), R̄ = V̄ and τ = τ*: logit 0, g = 0.5, 10·1.05 = 10.5 → 11.
        var options = Options with { InitialLengthLimit = 10, TargetTruncationRate = 0.5 };
        var update = ContinuousMaximizationState.Start(options).Update(options, [1.0, 1.0], [1.0, 1.0], [true, false]);
        Assert.Equal((0.5, 11), (update.Gate, update.LimitAfter));
    }

    [Fact]
    public void The_limit_never_shrinks_nor_passes_the_maximum_on_random_iterations()
    {
        var random = new Random(31);
        var options = Options with { MaxLengthLimit = 400, GrowthRate = 0.3 };
        var state = ContinuousMaximizationState.Start(options);
        for (int iteration = 0; iteration < 200; iteration++)
        {
            int rollouts = random.Next(1, 9);
            var scores = Enumerable.Range(0, rollouts).Select(_ => 10 * random.NextDouble() - 5).ToArray();
            var values = Enumerable.Range(0, rollouts).Select(_ => 10 * random.NextDouble() - 5).ToArray();
            var truncated = Enumerable.Range(0, rollouts).Select(_ => random.Next(4) == 0).ToArray();

            var update = state.Update(options, scores, values, truncated);

            Assert.InRange(update.Gate, 0, 1);
            Assert.InRange(update.LimitAfter, update.LimitBefore, options.MaxLengthLimit);
            Assert.Equal(state.LengthLimit, update.LimitBefore);
            state = update.Next;
        }
        Assert.Equal(options.MaxLengthLimit, state.LengthLimit);
    }

    [Fact]
    public void The_fixed_mode_keeps_the_initial_limit_and_still_reports_the_gate()
    {
        var options = Options with { FixedLimit = true };
        var state = ContinuousMaximizationState.Start(options);
        for (int iteration = 0; iteration < 3; iteration++)
        {
            var update = state.Update(options, [10.0, 12.0], [0.0, 0.0], [true, true]);
            Assert.Equal((100, 100), (update.LimitBefore, update.LimitAfter));
            Assert.True(update.Gate > 0.99);
            state = update.Next;
        }
        Assert.Equal(6, state.Scores.Count); // s_R keeps learning, so switching the mode off later behaves as usual
    }

    [Fact]
    public void The_state_round_trips_through_json()
    {
        var state = ContinuousMaximizationState.Start(Options).Update(Options, [1.0, 3.0], [1.0, 1.0], [true, false]).Next;
        Assert.Equal(state, JsonSerializer.Deserialize<ContinuousMaximizationState>(JsonSerializer.Serialize(state)));
    }

    [Fact]
    public void A_resumed_state_beyond_a_lowered_maximum_is_refused()
    {
        var state = new ContinuousMaximizationState(200, RunningMoments.Empty);
        var error = Assert.Throws<ArgumentException>(() => state.Update(Options, [1.0], [1.0], [false]));
        Assert.Contains("outside 1…130", error.Message);
    }

    [Fact]
    public void Mismatched_inputs_are_refused()
    {
        var state = ContinuousMaximizationState.Start(Options);
        Assert.Throws<ArgumentException>(() => state.Update(Options, [1.0, 2.0], [1.0], [false, false]));
        Assert.Throws<ArgumentException>(() => state.Update(Options, [], [], []));
    }

    [Theory]
    [InlineData(-1.0, 10.0, 0.1, 0.1, 256, 1024, "reward gain")]
    [InlineData(1.0, -1.0, 0.1, 0.1, 256, 1024, "truncation gain")]
    [InlineData(1.0, 10.0, -0.1, 0.1, 256, 1024, "growth rate")]
    [InlineData(1.0, 10.0, 0.1, 1.5, 256, 1024, "target truncation rate")]
    [InlineData(1.0, 10.0, 0.1, 0.1, 0, 1024, "initial length limit")]
    [InlineData(1.0, 10.0, 0.1, 0.1, 256, 128, "maximum length limit 128")]
    public void Invalid_options_are_named(double a, double b, double gamma, double targetRate, int initial, int max, string problem)
    {
        var options = new ContinuousMaximizationOptions
        {
            RewardGain = a, TruncationGain = b, GrowthRate = gamma, TargetTruncationRate = targetRate, InitialLengthLimit = initial, MaxLengthLimit = max,
        };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(problem, error.Message);
    }
}
