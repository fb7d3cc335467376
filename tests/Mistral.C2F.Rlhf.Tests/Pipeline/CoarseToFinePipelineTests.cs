using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Merging;
using Mistral.C2F.Rlhf.Pipeline;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.Sft;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Pipeline;

/// <summary>The whole pipeline at a miniature size over two seeds: every stage runs, the report has everything, a second run resumes.</summary>
[Trait("Backend", "cpu")]
public sealed class CoarseToFinePipelineTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static readonly PipelineOptions Miniature = new()
    {
        Data = new ChainArithmeticDataOptions
        {
            PretrainingCount = 128, SftCount = 16, PreferenceProblemCount = 32, PpoPromptCount = 16, ValidationCount = 6, ValidationPreferenceCount = 8,
            EvaluationCount = 6, HeldOutPreferenceCount = 8, HeldOutTextCount = 4,
        },
        Pretraining = new SftOptions { Steps = 6, BatchSize = 4, MicroBatchSize = 4, SequenceLength = 32, LearningRate = 1e-3, WarmupSteps = 1, SaveEvery = 6 },
        InstructionSft = new SftOptions { Steps = 3, BatchSize = 4, MicroBatchSize = 4, SequenceLength = 48, LearningRate = 1e-3, WarmupSteps = 1, SaveEvery = 3 },
        RewardModel = new RewardModelOptions { Steps = 3, BatchSize = 4, MaxLength = 96, LearningRate = 1e-3, WarmupSteps = 1, SaveEvery = 3 },
        PpoIterations = 2,
        RolloutsPerIteration = 4,
        Ppo = new PpoOptions { NumPpoEpochs = 1, ContinuousMaximization = new ContinuousMaximizationOptions { InitialLengthLimit = 6, MaxLengthLimit = 12 } },
        StartingLimitSamples = 8,
        Lambdas = [1f, 0.5f],
        RefinementPrompts = 8,
        EvaluationMaxTokens = 6,
    };

    [Fact]
    public void Every_stage_of_every_seed_runs_the_report_has_everything_and_a_second_run_resumes_to_the_same_report()
    {
        var output = Path.Combine(_directory.Path, "pipeline");
        using var lanes = BackendLanes.SharingCores(2, threads: 2);
        var stages = new List<string>();
        var results = new List<PipelineProgress>();
        var (seeds, markdown) = SeedSweep.Run(Miniature, [3, 4], output, lanes, new Collect(p =>
        {
            stages.Add(p.Stage);
            if (p.IsResult) results.Add(p);
        }), TestContext.Current.CancellationToken);

        Assert.Equal([3, 4], seeds.Select(s => s.Seed));
        var names = seeds[0].Stages.Select(s => s.Name).ToList();
        Assert.Equal(PipelineStages.Base, names[0]);
        Assert.Equal([PipelineStages.Base, PipelineStages.Instruct, PipelineStages.Coarse, PipelineStages.Fine, PipelineStages.FixedAtStart,
            PipelineStages.FixedAtMax, PipelineStages.Verifiable, PipelineStages.FineNone, PipelineStages.FineDare], names.Where(n => n != PipelineStages.FineRefined));
        Assert.Equal([PipelineStages.Coarse, PipelineStages.FixedAtStart, PipelineStages.FixedAtMax, PipelineStages.Verifiable], seeds[0].PpoRuns.Select(r => r.Name));
        Assert.All(seeds.SelectMany(s => s.PpoRuns), run =>
        {
            Assert.Equal(2, run.Iterations.Count);
            Assert.All(run.Iterations, i => Assert.NotNull(i.EvalAccuracy));
        });
        // L₀ comes from the base model's answers and bounds the fixed-at-L₀ run; the fixed-at-L_max run starts at L_max.
        Assert.All(seeds, s => Assert.InRange(s.StartingLengthLimit, 1, 12));
        Assert.All(seeds, s => Assert.Equal(s.StartingLengthLimit, s.PpoRuns[1].Iterations[^1].LengthLimit));
        Assert.All(seeds, s => Assert.Equal(12, s.PpoRuns[2].Iterations[0].LengthLimit));
        Assert.All(seeds, s => Assert.Contains(s.ChosenLambda, Miniature.Lambdas));
        Assert.All(seeds, s => Assert.Equal(Miniature.Data.HeldOutPreferenceCount, s.RewardModel.HeldOut.Pairs));
        Assert.All(seeds, s => Assert.Equal(Miniature.Data.EvaluationCount * Miniature.RankedSamplesPerPrompt, s.RewardModel.HeldOutSamples.Answers));
        Assert.All(seeds, s => Assert.Equal(Miniature.Data.ValidationCount * Miniature.RankedSamplesPerPrompt, s.RewardModel.ValidationSamples.Answers));
        Assert.All(new[] { "seed 3: base-pretraining", "seed 4: reward-model", "seed 4: λ sweep", "report" }, stage => Assert.Contains(stage, stages));
        // The measurements a user needs to see are results (kept on screen), each seed's in its order (the seeds ran side by side).
        foreach (var seed in new[] { 3, 4 })
            Assert.Equal([$"seed {seed}: reward model", $"seed {seed}: starting limit", $"seed {seed}: λ sweep"],
                results.Select(r => r.Stage).Where(stage => stage.StartsWith($"seed {seed}: ", StringComparison.Ordinal)));
        results = [.. results.Where(r => r.Stage.StartsWith("seed 3: ", StringComparison.Ordinal))];
        Assert.Contains("ROC AUC on the base model's answers to held-out prompts", results[0].Message);
        Assert.Equal($"L₀ = {seeds[0].StartingLengthLimit} tokens (quantile 0.25 of 8 answers, none of which shows its work)", results[1].Message);
        Assert.StartsWith($"λ = {seeds[0].ChosenLambda.ToString(System.Globalization.CultureInfo.InvariantCulture)} (", results[2].Message);
        Assert.True(File.Exists(Path.Combine(output, "seed-3", "report.md")));
        Assert.Equal(markdown, File.ReadAllText(Path.Combine(output, "report.md")));
        Assert.Contains("Seeds: 3, 4.", markdown);

        // A stage's results depend neither on its lane, nor on the stages beside it, nor on its share of the threads: seed 3
        // alone, one stage at a time on one thread, writes the same report.
        using (var serial = new CpuBackend(1))
            SeedSweep.Run(Miniature, [3], Path.Combine(_directory.Path, "serial"), BackendLanes.Single(serial), null, TestContext.Current.CancellationToken);
        Assert.Equal(File.ReadAllText(Path.Combine(output, "seed-3", "report.md")), File.ReadAllText(Path.Combine(_directory.Path, "serial", "report.md")));

        // A second run redoes nothing: seed 3 reads its saved result; seed 4, its result deleted, finds every stage done and
        // only measures again, to the same numbers (the report is the same to the last digit either way).
        File.Delete(Path.Combine(output, "seed-4", PipelineResultFile.FileName));
        stages.Clear();
        var again = SeedSweep.Run(Miniature, [3, 4], output, lanes, new Collect(p => stages.Add(p.Stage)), TestContext.Current.CancellationToken);
        Assert.DoesNotContain(stages, s => s.EndsWith("merge", StringComparison.Ordinal) || s.EndsWith("starting limit", StringComparison.Ordinal));
        Assert.DoesNotContain(stages, s => s.StartsWith("seed 3: ", StringComparison.Ordinal) && s != "seed 3: done");
        Assert.Contains("seed 4: evaluation", stages);
        Assert.Equal(markdown, again.Markdown);

        // Other options measure the seed again (here only the report of the sweep: λ 0.5 first changes no stage's files).
        stages.Clear();
        SeedSweep.Run(Miniature with { Lambdas = [0.5f, 1f] }, [3], Path.Combine(output, "seed-3"), lanes, new Collect(p => stages.Add(p.Stage)),
            TestContext.Current.CancellationToken);
        Assert.Contains("evaluation", stages);
        File.WriteAllText(Path.Combine(output, "seed-3", PipelineResultFile.FileName), "{ not json");
        var corrupt = Assert.Throws<InvalidDataException>(() => SeedSweep.Run(Miniature, [3, 4], output, lanes, null, TestContext.Current.CancellationToken));
        Assert.Contains(Path.Combine(output, "seed-3", PipelineResultFile.FileName), corrupt.Message);
    }

    /// <summary>Stages report from the threads they run on: one at a time here.</summary>
    private sealed class Collect(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        private readonly Lock _one = new();

        public void Report(PipelineProgress value)
        {
            lock (_one) report(value);
        }
    }
}
