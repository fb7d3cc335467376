using Mistral.C2F.Rlhf.Merging;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.Sft;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// Every stage of the Coarse-to-Fine pipeline and its ablations. The defaults are the tiny preset: a ~1M-parameter
/// model on the chain-arithmetic task, about ten minutes on 2 CPU cores.
/// </summary>
public sealed record PipelineOptions
{
    public string Preset { get; init; } = "tiny";
    public int Seed { get; init; }
    public ChainArithmeticDataOptions Data { get; init; } = new();

    /// <summary>Base pretraining: next-token loss on the task text (both answer styles) and the built-in tasks.</summary>
    public SftOptions Pretraining { get; init; } = new()
    {
        Steps = 2000, BatchSize = 16, MicroBatchSize = 16, SequenceLength = 64, LearningRate = 2e-3, WarmupSteps = 50, SaveEvery = 500,
    };

    /// <summary>Instruction SFT from the base: concise answers.</summary>
    public SftOptions InstructionSft { get; init; } = new()
    {
        Steps = 200, BatchSize = 16, MicroBatchSize = 16, SequenceLength = 64, LearningRate = 1e-3, WarmupSteps = 10, SaveEvery = 200,
    };

    /// <summary>The reward model, from the base, on preference pairs that differ in correctness, not length.</summary>
    public RewardModelOptions RewardModel { get; init; } = new()
    {
        Steps = 1500, BatchSize = 16, MaxLength = 64, LearningRate = 5e-4, WarmupSteps = 50, SaveEvery = 500,
    };

    public int PpoIterations { get; init; } = 40;
    public int RolloutsPerIteration { get; init; } = 32;

    /// <summary>PPO of the Coarse Actor from the base; the limit starts below a step-by-step answer's length.</summary>
    public PpoOptions Ppo { get; init; } = new()
    {
        KlCoef = 0.05, ActorLearningRate = 1e-4, CriticLearningRate = 1e-3, NumPpoEpochs = 2, NumMiniBatches = 2,
        ContinuousMaximization = new ContinuousMaximizationOptions { InitialLengthLimit = 16, MaxLengthLimit = 64, GrowthRate = 0.25 },
    };

    /// <summary>Also run PPO with the limit fixed at L₀ (the ablation of Continuous Maximization).</summary>
    public bool FixedLimitAblation { get; init; } = true;

    /// <summary>KRM refinements compared; the first is the Fine Actor of the main table.</summary>
    public IReadOnlyList<Sparsification> Refinements { get; init; } = [Sparsification.Trim, Sparsification.None, Sparsification.Dare];
    public double Density { get; init; } = 0.3;

    /// <summary>λ values of the sweep (applied to every parameter group); the first is the Fine Actor's.</summary>
    public IReadOnlyList<float> Lambdas { get; init; } = [1.0f, 0.5f, 1.5f];

    /// <summary>
    /// The optional refinement SFT of the Fine Actor on the Coarse Actor's correct answers to training prompts with
    /// redundant spans removed; null skips it.
    /// </summary>
    public SftOptions? RefinementSft { get; init; } = new()
    {
        Steps = 100, BatchSize = 16, MicroBatchSize = 16, SequenceLength = 64, LearningRate = 3e-4, WarmupSteps = 10, SaveEvery = 100,
    };

    /// <summary>Training prompts the Coarse Actor answers for the refinement data.</summary>
    public int RefinementPrompts { get; init; } = 512;

    /// <summary>Tokens generated per evaluation prompt.</summary>
    public int EvaluationMaxTokens { get; init; } = 64;
}
