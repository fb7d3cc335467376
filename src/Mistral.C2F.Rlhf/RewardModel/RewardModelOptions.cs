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
    public int SaveEvery { get; init; } = 50;
    public int KeepCheckpoints { get; init; } = 2;
    public int Seed { get; init; }
    public int MaxConsecutiveSkips { get; init; } = 3;

    public LearningRateSchedule Schedule() => new(LearningRate, WarmupSteps, Steps, MinLearningRateRatio);

    public void Validate()
    {
        if (Steps < 1 || BatchSize < 1 || MaxLength < 3 || SaveEvery < 1 || KeepCheckpoints < 1 || MaxConsecutiveSkips < 0 || MaxGradNorm < 0)
            throw new ArgumentException($"invalid reward-model options: {this}");
        Schedule().Validate();
    }
}
