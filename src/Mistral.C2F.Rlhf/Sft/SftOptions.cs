using System.Text.Json.Serialization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Sft;

/// <summary>SFT hyper-parameters, with TRL's names where TRL has one.</summary>
public sealed record SftOptions : ICheckpointedRunOptions
{
    /// <summary>Optimizer steps to train for (TRL: max_steps).</summary>
    public int Steps { get; init; } = 200;
    /// <summary>Packed sequences per optimizer step.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Sequences per forward/backward pass; BatchSize / MicroBatchSize passes accumulate (gradient_accumulation_steps).</summary>
    public int MicroBatchSize { get; init; } = 8;
    /// <summary>Tokens per packed sequence (TRL: max_seq_length).</summary>
    public int SequenceLength { get; init; } = 256;
    public double LearningRate { get; init; } = 3e-4;
    public int WarmupSteps { get; init; } = 10;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public AdamWOptions Optimizer { get; init; } = new();
    /// <summary>Global gradient-norm clipping (max_grad_norm); 0 disables it.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Save a checkpoint every this many steps (save_steps), and always at the end.</summary>
    public int SaveEvery { get; init; } = 50;
    /// <summary>Checkpoints kept on disk (save_total_limit).</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Shuffling seed of the data.</summary>
    public int Seed { get; init; }
    /// <summary>Steps in a row whose loss or gradient is not finite before the run stops.</summary>
    public int MaxConsecutiveSkips { get; init; } = 3;

    [JsonIgnore]
    public int AccumulationSteps => BatchSize / MicroBatchSize;

    [JsonIgnore]
    public LearningRateSchedule Schedule => new(LearningRate, WarmupSteps, Steps, MinLearningRateRatio);

    public void Validate()
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new ArgumentException($"invalid SFT options: {problem}");
        }
        Require(Steps >= 1, $"steps must be ≥ 1, got {Steps}");
        Require(BatchSize >= 1 && MicroBatchSize >= 1 && BatchSize % MicroBatchSize == 0,
            $"batch size {BatchSize} must be a positive multiple of the micro-batch size {MicroBatchSize}");
        Require(SequenceLength >= 2, $"sequence length must be ≥ 2, got {SequenceLength}");
        Require((long)BatchSize * SequenceLength <= int.MaxValue, $"a batch of {BatchSize} × {SequenceLength} tokens is more than {int.MaxValue}");
        Require(SaveEvery >= 1 && KeepCheckpoints >= 1 && MaxConsecutiveSkips >= 0, "save-every and keep-checkpoints must be ≥ 1");
        Require(MaxGradNorm >= 0, $"max grad norm must be ≥ 0, got {MaxGradNorm}");
        Schedule.Validate();
    }
}
