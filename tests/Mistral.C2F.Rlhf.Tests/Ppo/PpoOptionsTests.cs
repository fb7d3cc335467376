using System.Text.Json;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Ppo;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class PpoOptionsTests
{
    [Fact]
    public void Defaults_are_trls_with_the_adaptive_controller_on()
    {
        var options = new PpoOptions();
        options.Validate();

        Assert.Equal((0.05, KlEstimator.K1, true, 6.0, 10000.0), (options.KlCoef, options.KlEstimator, options.AdaptiveKlControl, options.KlTarget, options.KlHorizon));
        Assert.Equal((0.2, 0.2, 0.1, 1.0, 0.95), (options.Cliprange, options.CliprangeValue, options.VfCoef, options.Gamma, options.Lam));
        Assert.Equal((4, 1, 0.0, (double?)null), (options.NumPpoEpochs, options.NumMiniBatches, options.EntropyCoef, options.MissingEosPenalty));
        Assert.Equal((false, false, 1.0, 1.0), (options.WhitenRewards, options.NormalizeScores, options.Temperature, options.MaxGradNorm));
        Assert.Equal((256, 1024, false), (options.ContinuousMaximization.InitialLengthLimit, options.ContinuousMaximization.MaxLengthLimit,
            options.ContinuousMaximization.FixedLimit));
    }

    [Fact]
    public void Json_uses_trls_names_and_round_trips()
    {
        var options = new PpoOptions { KlEstimator = KlEstimator.K3, MissingEosPenalty = 1.0, ContinuousMaximization = new() { FixedLimit = true } };
        string json = JsonSerializer.Serialize(options);

        foreach (var name in new[] { "kl_coef", "adap_kl_ctrl", "cliprange", "cliprange_value", "vf_coef", "gamma", "lam", "num_ppo_epochs",
                     "num_mini_batches", "missing_eos_penalty", "whiten_rewards", "temperature", "max_grad_norm" })
            Assert.Contains($"\"{name}\":", json);
        Assert.Contains("\"kl_estimator\":\"k3\"", json);
        Assert.Equal(options, JsonSerializer.Deserialize<PpoOptions>(json));
    }

    [Theory]
    [InlineData("kl_coef")]
    [InlineData("adaptive KL controller needs kl_coef > 0")]
    [InlineData("cliprange must")]
    [InlineData("cliprange_value")]
    [InlineData("vf_coef")]
    [InlineData("gamma")]
    [InlineData("lam")]
    [InlineData("num_ppo_epochs")]
    [InlineData("num_mini_batches")]
    [InlineData("entropy_loss_coef")]
    [InlineData("missing_eos_penalty")]
    [InlineData("temperature")]
    [InlineData("actor_learning_rate")]
    [InlineData("max_grad_norm")]
    [InlineData("Continuous Maximization")]
    public void Invalid_values_are_refused_by_name(string problem)
    {
        var options = problem switch
        {
            "kl_coef" => new PpoOptions { KlCoef = double.NaN },
            "adaptive KL controller needs kl_coef > 0" => new PpoOptions { KlCoef = 0 },
            "cliprange must" => new PpoOptions { Cliprange = 1 },
            "cliprange_value" => new PpoOptions { CliprangeValue = 0 },
            "vf_coef" => new PpoOptions { VfCoef = -0.1 },
            "gamma" => new PpoOptions { Gamma = 1.01 },
            "lam" => new PpoOptions { Lam = -0.5 },
            "num_ppo_epochs" => new PpoOptions { NumPpoEpochs = 0 },
            "num_mini_batches" => new PpoOptions { NumMiniBatches = 0 },
            "entropy_loss_coef" => new PpoOptions { EntropyCoef = -0.01 },
            "missing_eos_penalty" => new PpoOptions { MissingEosPenalty = -1 },
            "temperature" => new PpoOptions { Temperature = 0.7 },
            "actor_learning_rate" => new PpoOptions { ActorLearningRate = double.PositiveInfinity },
            "max_grad_norm" => new PpoOptions { MaxGradNorm = -1 },
            _ => new PpoOptions { ContinuousMaximization = new() { MaxLengthLimit = 8, InitialLengthLimit = 16 } },
        };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_fixed_kl_coefficient_of_zero_is_allowed()
    {
        new PpoOptions { KlCoef = 0, AdaptiveKlControl = false }.Validate();
    }

    [Fact]
    public void A_config_file_sets_nested_length_limit_settings_by_the_names_a_run_json_shows()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("ppo.json");
        File.WriteAllText(path, """{"actor_learning_rate": 0.0002, "continuous_maximization": {"initial_length_limit": 96, "max_length_limit": 96, "fixed_limit": true}}""");

        var options = PpoOptions.Load(path);

        Assert.Equal((2e-4, 96, 96, true), (options.ActorLearningRate, options.ContinuousMaximization.InitialLengthLimit,
            options.ContinuousMaximization.MaxLengthLimit, options.ContinuousMaximization.FixedLimit));
        Assert.Equal(new PpoOptions().KlCoef, options.KlCoef);
    }

    [Theory]
    [InlineData("""{"continuous_maximization": {"initial_limit": 96}}""", "initial_limit")]
    [InlineData("""{"actor_lr": 0.0002}""", "actor_lr")]
    [InlineData("""{"cliprange": 2}""", "cliprange must")]
    [InlineData("""{"cliprange": """, "malformed PPO config")]
    public void A_config_file_with_an_unknown_or_invalid_setting_is_refused_naming_the_file_and_the_setting(string json, string expected)
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("ppo.json");
        File.WriteAllText(path, json);

        var error = Assert.Throws<InvalidDataException>(() => PpoOptions.Load(path));

        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }
}
