using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.RewardModel;

/// <summary>Reward-model training hyper-parameters (TRL's RewardTrainer names where it has them).</summary>
public sealed record RewardModelOptions : ICheckpointedRunOptions
{
    public int Steps { get; init; } = 200;
    /// <summary>Preference pairs per step (each is two sequences).</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Longest tokenized prompt + response, BOS and EOS included (max_length).</summary>
    public int MaxLength { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-4;
    public int WarmupSteps { get; init; } = 10;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public AdamWOptions Optimizer { get; init; } = new();
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>
    /// Weight c of the pull of each pair's score sum to zero, c·(r_c + r_r)² (TRL's center_rewards_coefficient): it sets
    /// the level the pairwise loss leaves free, so scores compare across prompts. 0: off.
    /// </summary>
    public double CenterRewardsCoefficient { get; init; }
    /// <summary>Batches of pairs of similar length (group_by_length): fewer padding tokens, the same pairs each epoch.</summary>
    public bool GroupByLength { get; init; }
    public int SaveEvery { get; init; } = 50;
    public int KeepCheckpoints { get; init; } = 2;
    public int Seed { get; init; }
    public int MaxConsecutiveSkips { get; init; } = 3;

    public LearningRateSchedule Schedule() => new(LearningRate, WarmupSteps, Steps, MinLearningRateRatio);

    public void Validate()
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new ArgumentException($"invalid reward-model options: {problem}");
        }
        Require(Steps >= 1, $"steps must be ≥ 1, got {Steps}");
        Require(BatchSize >= 1, $"batch size must be ≥ 1, got {BatchSize}");
        Require(MaxLength >= 3, $"max length must be ≥ 3 (BOS, a token, EOS), got {MaxLength}");
        Require((long)BatchSize * MaxLength <= int.MaxValue / 2, $"a batch of 2 × {BatchSize} × {MaxLength} tokens is more than {int.MaxValue}");
        Require(SaveEvery >= 1 && KeepCheckpoints >= 1 && MaxConsecutiveSkips >= 0, "save-every and keep-checkpoints must be ≥ 1");
        Require(MaxGradNorm >= 0, $"max grad norm must be ≥ 0, got {MaxGradNorm}");
        Require(CenterRewardsCoefficient >= 0 && double.IsFinite(CenterRewardsCoefficient),
            $"the center-rewards coefficient must be finite and ≥ 0, got {CenterRewardsCoefficient}");
        Schedule().Validate();
    }
}
