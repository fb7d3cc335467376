using Mistral.C2F.Rlhf.Merging;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.Sft;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// Every stage of the Coarse-to-Fine pipeline and its ablations. The defaults are the tiny preset: a ~1M-parameter
/// model on the chain-arithmetic task, 12 minutes on 2 Zen 5 cores, about 19 on 2 AVX2 ones (docs/perf/pipeline-lanes.md).
/// </summary>
public sealed record PipelineOptions
{
    public string Preset { get; init; } = "tiny";
    public int Seed { get; init; }
    public ChainArithmeticDataOptions Data { get; init; } = new();

    /// <summary>
    /// Base pretraining: next-token loss on the task text (both answer styles) and the built-in tasks. 4000 steps: at 2000
    /// the loss was still falling (0.59 → 0.53 over the last fifth), and the reward model, which starts from the base, was
    /// weaker (validation pairs of seeds 7 and 8: 85.2 and 83.2 % against 91.4 and 86.7 % at 4000). Sequences of 128 tokens,
    /// 8 a batch (the tokens of 16 × 64): a worked four-operation text is up to 89 tokens, and one in six is longer than 64,
    /// so a 64-token sequence would never hold it whole. The other SFT stages pack the same way.
    /// </summary>
    public SftOptions Pretraining { get; init; } = new()
    {
        Steps = 4000, BatchSize = 8, MicroBatchSize = 8, SequenceLength = 128, LearningRate = 2e-3, WarmupSteps = 50, SaveEvery = 500,
    };

    /// <summary>
    /// Instruction SFT from the base: concise answers. Gentle, as instruction tuning is next to pretraining: at 1e-3 the
    /// instruction model lost what the base knew (seed 7, validation prompts: 21.9 % against the base's 35.9 %), at 1e-4 it
    /// keeps most of it (32.8 %).
    /// </summary>
    public SftOptions InstructionSft { get; init; } = new()
    {
        Steps = 200, BatchSize = 8, MicroBatchSize = 8, SequenceLength = 128, LearningRate = 1e-4, WarmupSteps = 10, SaveEvery = 200,
    };

    /// <summary>
    /// The reward model, from the base, on preference pairs that differ in correctness, not length. 3000 steps (2.6 passes
    /// over its 18,432 pairs): with 1000 on a third of the pairs it ranked 86.7–91.4 % of the validation pairs right
    /// (seeds 7, 8, 9); see <see cref="ChainArithmeticDataOptions.PairsPerPreferenceProblem"/>. Centering 0.01 (TRL's
    /// suggested value) and batches grouped by length: on seed 7's validation prompts (four sampled base answers each) the
    /// AUC against the answer checker was 0.767 without either, 0.817 centered, 0.864 centered and grouped (0.848 at
    /// centering 0.1); validation pairs 93.8, 94.5, 96.5 (99.6) %.
    /// </summary>
    public RewardModelOptions RewardModel { get; init; } = new()
    {
        Steps = 3000, BatchSize = 16, MaxLength = 96, LearningRate = 5e-4, WarmupSteps = 50, SaveEvery = 500, CenterRewardsCoefficient = 0.01,
        GroupByLength = true,
    };

    public int PpoIterations { get; init; } = 40;
    /// <summary>
    /// 128: with 64 PPO did not move the validation accuracy even with the answer checker as the reward; with 256 the
    /// answer-checker run gained 5.5 points (seed 7); 128 is what the time budget allows for four PPO runs a seed.
    /// </summary>
    public int RolloutsPerIteration { get; init; } = 128;

    /// <summary>
    /// PPO of the Coarse Actor from the base. L₀ here is only a fallback: the pipeline sets it from the base model's answer
    /// lengths (<see cref="StartingLimitQuantile"/>).
    /// </summary>
    public PpoOptions Ppo { get; init; } = new()
    {
        KlCoef = 0.05, KlTarget = 2, KlHorizon = 5120, ActorLearningRate = 5e-5, CriticLearningRate = 2e-4, FreezingActorSteps = 5, NumPpoEpochs = 2, NumMiniBatches = 2, MissingEosPenalty = 1.0, NormalizeScores = true,
        ContinuousMaximization = new ContinuousMaximizationOptions { InitialLengthLimit = 24, MaxLengthLimit = 96, GrowthRate = 0.25 },
    };

    /// <summary>
    /// Sampled answers per prompt on which the reward model's ranking (ROC AUC against the answer checker) is measured, on the
    /// held-out and on the validation prompts. Four: with one answer to each of the 128 validation prompts the AUC moved with
    /// the draw by as much as the settings compared (seed 8, one reward model: 0.833 on one draw, 0.913 on four answers each).
    /// </summary>
    public int RankedSamplesPerPrompt { get; init; } = 4;

    /// <summary>
    /// L₀ is this quantile of the lengths of the base model's sampled answers to <see cref="StartingLimitSamples"/> training
    /// prompts that show their work (<see cref="StartingLimit"/>): with 0.25, three worked answers in four do not fit at
    /// first, the regime Continuous Maximization is for.
    /// </summary>
    public double StartingLimitQuantile { get; init; } = 0.25;

    /// <summary>
    /// Sampled answers L₀ is read from. The lengths bunch at the few layouts a worked answer takes (34 and 39 tokens are
    /// modes), so the quantile jumps between them: over disjoint windows of the base's answers to the PPO prompts
    /// (validation seeds 7 and 8, three draws each), L₀ spanned 6 and 7 tokens with 64 answers, 5 and 1 with 256, 2 and 0
    /// with 512. A draw of 512 takes about 3 seconds at the tiny preset.
    /// </summary>
    public int StartingLimitSamples { get; init; } = 512;

    /// <summary>
    /// Also run the ablations: PPO with the limit fixed at L₀ (Continuous Maximization off) and at L_max, and PPO with
    /// Continuous Maximization and the answer checker as the reward (separates the reward model's errors from PPO's).
    /// </summary>
    public bool Ablations { get; init; } = true;

    /// <summary>KRM refinements compared; the first is the Fine Actor of the main table.</summary>
    public IReadOnlyList<Sparsification> Refinements { get; init; } = [Sparsification.Trim, Sparsification.None, Sparsification.Dare];
    public double Density { get; init; } = 0.3;

    /// <summary>λ values of the sweep (applied to every parameter group); the Fine Actor takes the one best on the validation prompts.</summary>
    public IReadOnlyList<float> Lambdas { get; init; } = [0.5f, 1.0f, 1.5f, 2.0f, 3.0f];

    /// <summary>
    /// The optional refinement SFT of the Fine Actor on the Coarse Actor's correct answers to training prompts with
    /// redundant spans removed; null skips it.
    /// </summary>
    public SftOptions? RefinementSft { get; init; } = new()
    {
        Steps = 100, BatchSize = 8, MicroBatchSize = 8, SequenceLength = 128, LearningRate = 3e-4, WarmupSteps = 10, SaveEvery = 100,
    };

    /// <summary>Training prompts the Coarse Actor answers for the refinement data.</summary>
    public int RefinementPrompts { get; init; } = 512;

    /// <summary>Tokens generated per evaluation prompt.</summary>
    public int EvaluationMaxTokens { get; init; } = 96;
}
