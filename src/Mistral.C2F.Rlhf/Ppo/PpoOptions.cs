using System.Text.Json;
using System.Text.Json.Serialization;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// PPO hyper-parameters of the Coarse Actor under TRL's names (OpenRLHF's where TRL has none), in JSON and in the doc
/// comments; defaults are TRL's unless said otherwise.
/// </summary>
public sealed record PpoOptions
{
    /// <summary>kl_coef: β of the KL penalty, the initial value when the controller is adaptive.</summary>
    [JsonPropertyName("kl_coef")]
    public double KlCoef { get; init; } = 0.05;

    /// <summary>kl_estimator: k1 (TRL's default) or k3 (never negative).</summary>
    [JsonPropertyName("kl_estimator")]
    public KlEstimator KlEstimator { get; init; } = KlEstimator.K1;

    /// <summary>adap_kl_ctrl (TRL ≤ 0.11): steer β to <see cref="KlTarget"/>. On by default, as there and as the
    /// method (docs/DEFINITIONS.md, "The method") has it; current TRL has only the fixed β.</summary>
    [JsonPropertyName("adap_kl_ctrl")]
    public bool AdaptiveKlControl { get; init; } = true;

    /// <summary>target: KL per response (summed over its tokens) the adaptive controller steers to.</summary>
    [JsonPropertyName("target")]
    public double KlTarget { get; init; } = 6.0;

    /// <summary>horizon: rollouts over which the adaptive controller corrects β.</summary>
    [JsonPropertyName("horizon")]
    public double KlHorizon { get; init; } = 10000;

    /// <summary>cliprange: ε of the policy ratio clip.</summary>
    [JsonPropertyName("cliprange")]
    public double Cliprange { get; init; } = 0.2;

    /// <summary>cliprange_value: how far a value prediction may move from its rollout-time value before its loss is clipped.</summary>
    [JsonPropertyName("cliprange_value")]
    public double CliprangeValue { get; init; } = 0.2;

    /// <summary>vf_coef: weight of the value loss.</summary>
    [JsonPropertyName("vf_coef")]
    public double VfCoef { get; init; } = 0.1;

    /// <summary>gamma: discount of GAE.</summary>
    [JsonPropertyName("gamma")]
    public double Gamma { get; init; } = 1.0;

    /// <summary>lam: λ of GAE.</summary>
    [JsonPropertyName("lam")]
    public double Lam { get; init; } = 0.95;

    /// <summary>num_ppo_epochs: passes over each batch of rollouts.</summary>
    [JsonPropertyName("num_ppo_epochs")]
    public int NumPpoEpochs { get; init; } = 4;

    /// <summary>num_mini_batches: optimizer steps per pass.</summary>
    [JsonPropertyName("num_mini_batches")]
    public int NumMiniBatches { get; init; } = 1;

    /// <summary>entropy_loss_coef (OpenRLHF; TRL has none): weight of the entropy bonus, 0 = off.</summary>
    [JsonPropertyName("entropy_loss_coef")]
    public double EntropyCoef { get; init; }

    /// <summary>missing_eos_penalty: subtracted from the score of a rollout that generated no EOS; null = off.</summary>
    [JsonPropertyName("missing_eos_penalty")]
    public double? MissingEosPenalty { get; init; }

    /// <summary>whiten_rewards: whiten per-token rewards over the batch, keeping their mean.</summary>
    [JsonPropertyName("whiten_rewards")]
    public bool WhitenRewards { get; init; }

    /// <summary>use_score_scaling with use_score_norm (TRL ≤ 0.11): standardise scores by running moments of every
    /// score seen (<see cref="RunningMoments.Standardize"/>) before they enter the rewards.</summary>
    [JsonPropertyName("use_score_norm")]
    public bool NormalizeScores { get; init; }

    /// <summary>
    /// temperature: sampling temperature of the rollouts. Log-probabilities (ratio, KL) must come from the same
    /// distribution, and the op contract computes them at temperature 1, so 1 (OpenRLHF's default) is the only value
    /// accepted for now.
    /// </summary>
    [JsonPropertyName("temperature")]
    public double Temperature { get; init; } = 1.0;

    /// <summary>actor_learning_rate (OpenRLHF's name and default; TRL's one learning_rate is 3e-6).</summary>
    [JsonPropertyName("actor_learning_rate")]
    public double ActorLearningRate { get; init; } = 1e-6;

    /// <summary>critic_learning_rate (OpenRLHF's name and default).</summary>
    [JsonPropertyName("critic_learning_rate")]
    public double CriticLearningRate { get; init; } = 9e-6;

    /// <summary>
    /// lr_scheduler_type: cosine_with_min_lr (OpenRLHF's default: cosine decay over the run's iterations to a tenth of the
    /// learning rates) or constant.
    /// </summary>
    [JsonPropertyName("lr_scheduler_type")]
    public LrSchedulerType LrSchedulerType { get; init; } = LrSchedulerType.CosineWithMinLr;

    /// <summary>The schedule of a learning rate peaking at <paramref name="peak"/> over <paramref name="iterations"/>; null when constant.</summary>
    public Engine.Training.LearningRateSchedule? Schedule(double peak, int iterations) => LrSchedulerType == LrSchedulerType.Constant ? null
        : new Engine.Training.LearningRateSchedule(peak, WarmupSteps: 0, TotalSteps: iterations, MinimumRatio: 0.1);

    /// <summary>The learning rate of iteration <paramref name="iteration"/> (from 1) of <paramref name="iterations"/>, from its peak.</summary>
    public double LearningRate(double peak, int iteration, int iterations) => Schedule(peak, iterations)?.At(iteration) ?? peak;

    /// <summary>
    /// freezing_actor_steps (OpenRLHF): the first iterations update the critic alone, so that the actor's first updates use
    /// values fitted to the rewards rather than the reward model's raw scale the critic starts from. 0: none.
    /// </summary>
    [JsonPropertyName("freezing_actor_steps")]
    public int FreezingActorSteps { get; init; }

    /// <summary>max_grad_norm: global gradient-norm clipping, per model; 0 disables it.</summary>
    [JsonPropertyName("max_grad_norm")]
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>The rollout length limit and how it grows (ours, not TRL's).</summary>
    [JsonPropertyName("continuous_maximization")]
    public ContinuousMaximizationOptions ContinuousMaximization { get; init; } = new();

    /// <summary>The KL controller a run starts with; a resumed run deserialises its saved one instead.</summary>
    public IKlController CreateKlController() =>
        AdaptiveKlControl ? new AdaptiveKlController(KlCoef, KlTarget, KlHorizon) : new FixedKlController(KlCoef);

    /// <summary>A PPO config file: the options of a run.json's "ppo" object, any subset of them; checked.</summary>
    public static PpoOptions Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: PPO config not found", path);
        ModelFiles.RequireRegularFile(path);
        PpoOptions options;
        try
        {
            options = JsonSerializer.Deserialize<PpoOptions>(File.ReadAllText(path), RunJson.Options) ?? throw new InvalidDataException($"{path}: empty PPO config");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed PPO config: {e.Message}", e);
        }
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        return options;
    }

    public void Validate()
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new ArgumentException($"invalid PPO options: {problem}");
        }
        Require(double.IsFinite(KlCoef) && KlCoef >= 0, $"kl_coef must be finite and ≥ 0, got {KlCoef}");
        Require(Enum.IsDefined(KlEstimator), $"kl_estimator must be k1 or k3, got {KlEstimator}");
        // The adaptive controller multiplies β, so it could never move a β of 0.
        Require(!AdaptiveKlControl || KlCoef > 0, "the adaptive KL controller needs kl_coef > 0");
        Require(KlTarget is > 0 and < double.PositiveInfinity, $"target must be finite and > 0, got {KlTarget}");
        Require(KlHorizon is > 0 and < double.PositiveInfinity, $"horizon must be finite and > 0, got {KlHorizon}");
        Require(Cliprange is > 0 and < 1, $"cliprange must be in (0, 1), got {Cliprange}");
        Require(CliprangeValue is > 0 and < double.PositiveInfinity, $"cliprange_value must be finite and > 0, got {CliprangeValue}");
        Require(VfCoef is >= 0 and < double.PositiveInfinity, $"vf_coef must be finite and ≥ 0, got {VfCoef}");
        Require(Gamma is >= 0 and <= 1, $"gamma must be in [0, 1], got {Gamma}");
        Require(Lam is >= 0 and <= 1, $"lam must be in [0, 1], got {Lam}");
        Require(NumPpoEpochs >= 1, $"num_ppo_epochs must be ≥ 1, got {NumPpoEpochs}");
        Require(NumMiniBatches >= 1, $"num_mini_batches must be ≥ 1, got {NumMiniBatches}");
        Require(EntropyCoef is >= 0 and < double.PositiveInfinity, $"entropy_loss_coef must be finite and ≥ 0, got {EntropyCoef}");
        Require(MissingEosPenalty is null or (>= 0 and < double.PositiveInfinity),
            $"missing_eos_penalty must be finite and ≥ 0 (it is subtracted), got {MissingEosPenalty}");
        Require(Temperature == 1.0, $"temperature {Temperature} is not supported: rollout log-probabilities are taken at temperature 1, so sampling must use 1 too");
        Require(ActorLearningRate is > 0 and < double.PositiveInfinity, $"actor_learning_rate must be finite and > 0, got {ActorLearningRate}");
        Require(CriticLearningRate is > 0 and < double.PositiveInfinity, $"critic_learning_rate must be finite and > 0, got {CriticLearningRate}");
        Require(MaxGradNorm is >= 0 and < double.PositiveInfinity, $"max_grad_norm must be finite and ≥ 0, got {MaxGradNorm}");
        Require(FreezingActorSteps >= 0, $"freezing_actor_steps must be ≥ 0, got {FreezingActorSteps}");
        Require(Enum.IsDefined(LrSchedulerType), $"lr_scheduler_type must be constant or cosine_with_min_lr, got {LrSchedulerType}");
        ContinuousMaximization.Validate();
    }
}
