using System.Text.Json;
using Mistral.C2F.Rlhf.Ppo;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class KlControllerTests
{
    [Fact]
    public void The_adaptive_controller_follows_trl_arithmetic_over_a_few_updates()
    {
        IKlController controller = new AdaptiveKlController(Coefficient: 0.1, Target: 6, Horizon: 10000);

        // KL 9 over 100 rollouts: error 9/6 − 1 = 0.5, clipped to 0.2; β = 0.1·(1 + 0.2·100/10000) = 0.1002.
        controller = controller.Update(observedKl: 9, steps: 100);
        Assert.Equal(0.1002, controller.Coefficient, 1e-15);
        // KL 5.4: error 0.9 − 1 = −0.1 (inside the clip); β = 0.1002·(1 − 0.1·0.01) = 0.1000998.
        controller = controller.Update(observedKl: 5.4, steps: 100);
        Assert.Equal(0.1000998, controller.Coefficient, 1e-15);
        // KL 0 over 1000 rollouts: error −1, clipped to −0.2; β = 0.1000998·(1 − 0.2·0.1) = 0.098097804.
        controller = controller.Update(observedKl: 0, steps: 1000);
        Assert.Equal(0.098097804, controller.Coefficient, 1e-15);
    }

    [Fact]
    public void The_fixed_controller_never_moves()
    {
        IKlController controller = new FixedKlController(0.05);
        Assert.Equal(0.05, controller.Update(observedKl: 100, steps: 512).Update(observedKl: -3, steps: 512).Coefficient);
    }

    [Fact]
    public void A_non_finite_kl_is_refused_rather_than_poisoning_beta()
    {
        var controller = new AdaptiveKlController(0.1, 6, 10000);
        Assert.Throws<ArgumentOutOfRangeException>(() => controller.Update(double.NaN, 8));
    }

    [Fact]
    public void Controllers_round_trip_through_json_with_their_kind()
    {
        IKlController[] controllers = [new AdaptiveKlController(0.0123, 6, 10000).Update(7, 64), new FixedKlController(0.05)];
        foreach (var controller in controllers)
        {
            string json = JsonSerializer.Serialize(controller);
            Assert.Equal(controller, JsonSerializer.Deserialize<IKlController>(json));
        }
        Assert.Contains("\"kind\":\"adaptive\"", JsonSerializer.Serialize(controllers[0]));
    }

    [Fact]
    public void Options_choose_the_adaptive_controller_by_default_and_the_fixed_one_when_asked()
    {
        Assert.Equal(new AdaptiveKlController(0.05, 6, 10000), new PpoOptions().CreateKlController());
        Assert.Equal(new FixedKlController(0.2), new PpoOptions { KlCoef = 0.2, AdaptiveKlControl = false }.CreateKlController());
    }
}
