using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Merging;
using Mistral.C2F.Rlhf.Pipeline;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.Sft;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Pipeline;

/// <summary>The whole pipeline at a miniature size: every stage runs, the report has every row, a second run resumes.</summary>
[Trait("Backend", "cpu")]
public sealed class CoarseToFinePipelineTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static readonly PipelineOptions Miniature = new()
    {
        Data = new ChainArithmeticDataOptions { PretrainingCount = 128, SftCount = 32, PreferenceCount = 32, PpoPromptCount = 16, EvaluationCount = 6, HeldOutTextCount = 4 },
        Pretraining = new SftOptions { Steps = 6, BatchSize = 4, MicroBatchSize = 4, SequenceLength = 32, LearningRate = 1e-3, WarmupSteps = 1, SaveEvery = 6 },
        InstructionSft = new SftOptions { Steps = 3, BatchSize = 4, MicroBatchSize = 4, SequenceLength = 32, LearningRate = 1e-3, WarmupSteps = 1, SaveEvery = 3 },
        RewardModel = new RewardModelOptions { Steps = 3, BatchSize = 4, MaxLength = 64, LearningRate = 1e-3, WarmupSteps = 1, SaveEvery = 3 },
        PpoIterations = 2,
        RolloutsPerIteration = 4,
        Ppo = new PpoOptions { NumPpoEpochs = 1, ContinuousMaximization = new ContinuousMaximizationOptions { InitialLengthLimit = 6, MaxLengthLimit = 12 } },
        Refinements = [Sparsification.Trim, Sparsification.Dare],
        Lambdas = [1f, 0.5f],
        EvaluationMaxTokens = 6,
    };

    [Fact]
    public void Every_stage_runs_the_report_has_every_model_and_a_second_run_resumes_to_the_same_report()
    {
        var output = Path.Combine(_directory.Path, "pipeline");
        using var backend = new CpuBackend(2);
        var stages = new List<string>();
        var first = new CoarseToFinePipeline(Miniature, output, backend, new Collect(p => stages.Add(p.Stage))).Run(TestContext.Current.CancellationToken);

        Assert.Equal(["base", "instruct", "coarse actor (CM)", "fine actor (KRM trim, λ=1)", "coarse actor (fixed limit)",
            "fine actor (KRM dare, λ=1)", "fine actor (KRM trim, λ=0.5)"], first.Report.Stages.Select(s => s.Name));
        Assert.Equal(["Continuous Maximization", "fixed limit"], first.Report.PpoRuns.Select(r => r.Name));
        Assert.All(first.Report.PpoRuns, run => Assert.Equal(2, run.Iterations.Count));
        Assert.All(new[] { "data", "init", "base-pretraining", "instruction-sft", "reward-model", "coarse-actor", "merge", "evaluation", "report" },
            stage => Assert.Contains(stage, stages));
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
        Assert.All(new[] { "ppo-reward.png", "ppo-kl.png", "ppo-length-limit.png", "ppo-response-length.png" },
            png => Assert.True(new FileInfo(Path.Combine(output, png)).Length > 1000, png));

        // Every stage is done, so a second run only re-evaluates: same models, same numbers, nothing retrained.
        stages.Clear();
        var second = new CoarseToFinePipeline(Miniature, output, backend, new Collect(p => stages.Add(p.Stage))).Run(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("merge", stages);
        Assert.Equal(first.Markdown, second.Markdown);
    }

    private sealed class Collect(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => report(value);
    }
}
