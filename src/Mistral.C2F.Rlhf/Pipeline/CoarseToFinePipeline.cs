using System.Globalization;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Merging;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Ppo.Training;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.Sft;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tasks;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// The whole method on an embedded task, offline: base pretraining → instruction SFT (concise answers) → reward model
/// from preference pairs → Coarse Actor (PPO + Continuous Maximization from the base, and the fixed-limit ablation) →
/// Fine Actor (Knowledge Residue Merger of the coarse residue into the instruction model, over refinements and λ) →
/// evaluation of every model → report. Every stage writes its own run directory, so an interrupted pipeline picks up
/// where it stopped when run again with the same output directory.
/// </summary>
public sealed class CoarseToFinePipeline(PipelineOptions options, string outputDirectory, Backend backend, IProgress<PipelineProgress>? progress = null)
{
    private readonly string _root = Path.GetFullPath(outputDirectory);

    /// <summary>Runs (or finishes) every stage and writes the report; returns the report's input and its Markdown.</summary>
    public (PipelineReportInput Report, string Markdown) Run(CancellationToken cancellation = default)
    {
        var data = PrepareData();
        var init = Initialize();
        var baseModel = Sft("base-pretraining", init, data.Path(ChainArithmeticDatasets.PretrainingFileName), options.Pretraining, cancellation);
        var instruct = Sft("instruction-sft", baseModel, data.Path(ChainArithmeticDatasets.InstructionSftFileName), options.InstructionSft, cancellation);
        var rewardModel = RewardModel(baseModel, data.Path(ChainArithmeticDatasets.PreferencesFileName), cancellation);

        var ppoRuns = new List<(string Name, string Run)> { ("Continuous Maximization", Path.Combine(_root, "coarse-actor")) };
        if (options.FixedLimitAblation) ppoRuns.Add(("fixed limit", Path.Combine(_root, "coarse-actor-fixed-limit")));
        var coarse = ppoRuns.Select(run => Ppo(run.Run, baseModel, rewardModel, data.Path(ChainArithmeticDatasets.PpoPromptsFileName),
            fixedLimit: run.Name == "fixed limit", cancellation)).ToList();

        var fine = new List<(string Name, string Model)>();
        foreach (var refine in options.Refinements)
            fine.Add(($"fine actor (KRM {Name(refine)}, λ={Format(options.Lambdas[0])})", Merge(baseModel, coarse[0], instruct, refine, options.Lambdas[0], cancellation)));
        foreach (var lambda in options.Lambdas.Skip(1))
            fine.Add(($"fine actor (KRM {Name(options.Refinements[0])}, λ={Format(lambda)})", Merge(baseModel, coarse[0], instruct, options.Refinements[0], lambda, cancellation)));

        var models = new List<(string Name, string Model)> { ("base", baseModel), ("instruct", instruct), ("coarse actor (CM)", coarse[0]) };
        models.AddRange(fine.Take(1));
        if (options.RefinementSft is { } refinement && Refine(coarse[0], fine[0].Model, data, refinement, cancellation) is { } refined)
            models.Add(($"{fine[0].Name} + refinement SFT", refined));
        if (coarse.Count > 1) models.Add(("coarse actor (fixed limit)", coarse[1]));
        models.AddRange(fine.Skip(1));
        var stages = Evaluate(models, rewardModel, data, cancellation);

        var report = new PipelineReportInput(stages, ppoRuns.Select(run => new PpoRunLog(run.Name, PpoLog(run.Run))).ToList());
        Report("report", "writing report.md and the PPO plots");
        return (report, PipelineReport.Write(_root, report));
    }

    private sealed record DataDirectory(string Directory, ChainArithmeticDatasets Sets)
    {
        public string Path(string file) => System.IO.Path.Combine(Directory, file);
    }

    private DataDirectory PrepareData()
    {
        var directory = Path.Combine(_root, "data");
        var sets = ChainArithmeticDatasets.Build(options.Data);
        Report("data", $"{sets.Pretraining.Count} pretraining texts, {sets.InstructionSft.Count} SFT, {sets.Preferences.Count} preference pairs, " +
            $"{sets.PpoPrompts.Count} PPO prompts, {sets.Evaluation.Count} held-out prompts");
        // Deterministic, so rewriting is harmless and keeps a resumed pipeline's data fingerprints intact.
        Directory.CreateDirectory(directory);
        sets.Write(directory);
        return new DataDirectory(directory, sets);
    }

    private string Initialize()
    {
        var directory = Path.Combine(_root, "init");
        if (!File.Exists(Path.Combine(directory, MistralCheckpoint.ConfigFileName))) Report("init", $"random {options.Preset} model");
        RandomCheckpoint.Ensure(directory, MistralPresets.Get(options.Preset), options.Seed);
        return directory;
    }

    private string Sft(string stage, string model, string data, SftOptions sft, CancellationToken cancellation)
    {
        var run = Path.Combine(_root, stage);
        using var trainer = new CheckpointDirectory(run).Latest is null
            ? SftTrainer.Start(new RunSpec<SftOptions>(model, data, sft with { Seed = options.Seed }), run, backend)
            : SftTrainer.Resume(run, backend);
        return trainer.Run(Forward<SftStepMetrics>(stage, sft.Steps, m => $"loss {m.Loss:F3}"), cancellation);
    }

    private string RewardModel(string model, string data, CancellationToken cancellation)
    {
        const string stage = "reward-model";
        var run = Path.Combine(_root, stage);
        using var trainer = new CheckpointDirectory(run).Latest is null
            ? RewardModelTrainer.Start(new RunSpec<RewardModelOptions>(model, data, options.RewardModel with { Seed = options.Seed }), run, backend)
            : RewardModelTrainer.Resume(run, backend);
        return trainer.Run(Forward<RewardModelStepMetrics>(stage, options.RewardModel.Steps, m => $"loss {m.Loss:F3} accuracy {m.Accuracy:P0}"), cancellation);
    }

    private string Ppo(string run, string model, string rewardModel, string prompts, bool fixedLimit, CancellationToken cancellation)
    {
        var stage = Path.GetFileName(run);
        var ppo = options.Ppo with { ContinuousMaximization = options.Ppo.ContinuousMaximization with { FixedLimit = fixedLimit } };
        var spec = new RunSpec<PpoTrainingOptions>(model, prompts, new PpoTrainingOptions
        {
            Iterations = options.PpoIterations, RolloutsPerIteration = options.RolloutsPerIteration, RewardModelDirectory = rewardModel,
            Ppo = ppo, SaveEvery = Math.Max(1, options.PpoIterations / 4), Seed = options.Seed,
        });
        using var trainer = new CheckpointDirectory(run).Latest is null ? PpoTrainer.Start(spec, run, backend) : PpoTrainer.Resume(run, backend);
        var final = trainer.Run(Forward<PpoIterationMetrics>(stage, options.PpoIterations,
            m => $"score {m[PpoMetrics.Scores]:F3} limit {m[PpoMetrics.LengthLimit]:F0} length {m[PpoMetrics.ResponseLength]:F1}"), cancellation);
        return PpoTrainer.ActorOf(final);
    }

    private string Merge(string baseModel, string coarse, string instruct, Sparsification refine, float lambda, CancellationToken cancellation)
    {
        var output = Path.Combine(_root, $"fine-actor-{Name(refine)}-lambda{Format(lambda)}");
        if (File.Exists(Path.Combine(output, MistralCheckpoint.ConfigFileName))) return output;
        Report("merge", $"KRM {Name(refine)}, λ={Format(lambda)}");
        var spec = MergeSpec.Krm(baseModel, coarse, instruct) with
        {
            Refine = refine, Density = refine == Sparsification.None ? null : options.Density, Lambda = new GroupLambdas(lambda), Seed = (ulong)options.Seed,
        };
        ModelMerger.Run(spec, output, cancellationToken: cancellation);
        return output;
    }

    /// <summary>Refinement SFT of the Fine Actor, or null when the Coarse Actor answered no training prompt correctly.</summary>
    private string? Refine(string coarse, string fine, DataDirectory data, SftOptions refinement, CancellationToken cancellation)
    {
        var path = Path.Combine(_root, "refinement-data.jsonl");
        if (!File.Exists(path))
        {
            Report("refinement data", "the coarse actor answers training prompts; redundant spans removed, wrong answers dropped");
            using var actor = MistralCheckpoint.LoadModel(coarse, backend);
            var examples = RefinementData.Build(actor, MistralTokenizer.Load(coarse), data.Sets.InstructionSft.Take(options.RefinementPrompts).ToList(),
                options.EvaluationMaxTokens, cancellation);
            if (examples.Count == 0) return null;
            SftJsonlWriter.Write(path, examples);
        }
        return Sft("fine-actor-refinement-sft", fine, path, refinement, cancellation);
    }

    private List<StageRow> Evaluate(List<(string Name, string Model)> models, string rewardModelDirectory, DataDirectory data, CancellationToken cancellation)
    {
        var tokenizer = MistralTokenizer.Load(models[0].Model);
        var evaluator = new StageEvaluator(tokenizer, options.EvaluationMaxTokens);
        using var rewardModel = MistralCheckpoint.LoadSequenceClassifier(rewardModelDirectory, backend);
        var rows = new List<StageRow>();
        foreach (var (name, path) in models)
        {
            Report("evaluation", name);
            using var model = MistralCheckpoint.LoadModel(path, backend);
            var result = evaluator.Evaluate(model, data.Sets.Evaluation, rewardModel, data.Sets.HeldOutText, cancellation);
            rows.Add(new StageRow(name, result.Metrics));
        }
        return rows;
    }

    private static List<PpoIterationRecord> PpoLog(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(line => JsonNode.Parse(line)!).Select(m => new PpoIterationRecord(
            m["step"]!.GetValue<int>(), Value(m, PpoMetrics.Scores), Value(m, PpoMetrics.Kl), (int)Value(m, PpoMetrics.LengthLimit),
            Value(m, PpoMetrics.ResponseLength), Value(m, PpoMetrics.TruncationRate))).ToList();

    private static double Value(JsonNode metrics, string key) => metrics[key]?.GetValue<double>() ?? double.NaN;

    private static string Name(Sparsification refine) => refine.ToString().ToLowerInvariant();

    private static string Format(float lambda) => lambda.ToString("0.##", CultureInfo.InvariantCulture);

    private IProgress<T> Forward<T>(string stage, int total, Func<T, string> describe) where T : IStepReport =>
        new Forwarder<T>(report => Report(stage, describe(report), report.Step, total));

    private void Report(string stage, string message, int step = 0, int total = 0) => progress?.Report(new PipelineProgress(stage, message, step, total));

    private sealed class Forwarder<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
