using System.Globalization;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.IO;
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
/// One seed of the whole method on an embedded task, offline: base pretraining → instruction SFT (the clean format) →
/// reward model from preference pairs, measured on held-out pairs and on the base model's samples → L₀ from the base
/// model's answer lengths → Coarse Actor (PPO + Continuous Maximization from the base) and its ablations (the limit fixed
/// at L₀ and at L_max; the answer checker as the reward) → Fine Actor (Knowledge Residue Merger of the coarse residue into
/// the instruction model, λ chosen on the validation prompts, over refinements) → evaluation of every model on held-out
/// prompts. Every stage writes its own directory, so an interrupted pipeline picks up where it stopped when run again;
/// a finished one keeps its measurements (<see cref="PipelineResultFile"/>) and redoes nothing.
/// </summary>
/// <param name="order">The seed's place in a sweep: of stages of one step waiting for a lane, the earlier seed's go first (<see cref="StagePriority"/>).</param>
public sealed class CoarseToFinePipeline(PipelineOptions options, string outputDirectory, BackendLanes lanes, IProgress<PipelineProgress>? progress = null,
    int order = 0)
{
    private readonly string _root = Path.GetFullPath(outputDirectory);

    /// <summary>
    /// Runs (or finishes) every stage and returns what the report shows. Stages that need only what is done run side by side,
    /// one to a lane: instruction SFT beside the reward model, the four PPO runs, the λ sweep's merges, the evaluations.
    /// </summary>
    public PipelineReportInput Run(CancellationToken cancellation = default)
    {
        if (PipelineResultFile.TryLoad(_root, options) is { } measured)
        {
            Report("done", $"measured before ({PipelineResultFile.FileName})");
            return measured;
        }
        using var stages = new ConcurrentStages(cancellation);
        T Now<T>(PipelineStep step, Func<Backend, CancellationToken, T> work) => stages.Result(OnLane(stages, step, work));

        var data = PrepareData();
        var init = Initialize();
        var baseModel = Now(PipelineStep.Pretraining, (backend, stop) =>
            Sft(backend, "base-pretraining", init, data.Path(ChainArithmeticDatasets.PretrainingFileName), options.Pretraining, stop));
        var instructTask = OnLane(stages, PipelineStep.RewardModel, (backend, stop) =>
            Sft(backend, "instruction-sft", baseModel, data.Path(ChainArithmeticDatasets.InstructionSftFileName), options.InstructionSft, stop));
        var rewardModel = Now(PipelineStep.RewardModel, (backend, stop) => RewardModel(backend, baseModel, data.Path(ChainArithmeticDatasets.PreferencesFileName), stop));
        var rewardReport = Now(PipelineStep.Measurement, (backend, stop) => MeasureRewardModel(backend, rewardModel, baseModel, data, stop));
        int startingLimit = Now(PipelineStep.Measurement, (backend, stop) => StartingLimit(backend, baseModel, data, stop));

        var cm = options.Ppo.ContinuousMaximization with { InitialLengthLimit = startingLimit };
        var runs = new List<(string Name, string Directory, ContinuousMaximizationOptions Limit, RewardSource Reward)>
        {
            (PipelineStages.Coarse, "coarse-actor", cm, RewardSource.RewardModel),
        };
        if (options.Ablations)
        {
            runs.Add((PipelineStages.FixedAtStart, "coarse-actor-fixed-start", cm with { FixedLimit = true }, RewardSource.RewardModel));
            runs.Add((PipelineStages.FixedAtMax, "coarse-actor-fixed-max", cm with { InitialLengthLimit = cm.MaxLengthLimit, FixedLimit = true }, RewardSource.RewardModel));
            runs.Add((PipelineStages.Verifiable, "coarse-actor-answer-checker", cm, RewardSource.AnswerChecker));
        }
        var actorTasks = runs.Select(run => OnLane(stages, PipelineStep.Ppo, (backend, stop) =>
            Ppo(backend, Path.Combine(_root, run.Directory), baseModel, rewardModel, data, run.Limit, run.Reward, stop))).ToList();
        var coarse = stages.Result(actorTasks[0]);
        var instruct = stages.Result(instructTask);

        var (sweep, lambda) = ChooseLambda(stages, baseModel, coarse, instruct, data);
        var fine = options.Refinements.Select(refine => (Name: FineName(refine), Model: Merge(baseModel, coarse, instruct, refine, lambda, stages.Cancellation))).ToList();

        var models = new List<(string Name, string Model)> { (PipelineStages.Base, baseModel), (PipelineStages.Instruct, instruct), (PipelineStages.Coarse, coarse) };
        models.Add(fine[0]);
        if (options.RefinementSft is { } refinement && Now(PipelineStep.Merging, (backend, stop) => Refine(backend, coarse, fine[0].Model, data, refinement, stop)) is { } refined)
            models.Add((PipelineStages.FineRefined, refined));
        models.AddRange(runs.Skip(1).Zip(actorTasks.Skip(1), (run, actor) => (run.Name, stages.Result(actor))));
        models.AddRange(fine.Skip(1));
        var rows = models.Select(model => OnLane(stages, PipelineStep.Evaluation, (backend, stop) => Evaluate(backend, model, rewardModel, data, stop))).ToList();
        var evaluated = rows.Select(stages.Result).ToList();

        var logs = runs.Select(run => new PpoRunLog(run.Name, PpoLog(Path.Combine(_root, run.Directory)))).ToList();
        var result = new PipelineReportInput(options.Seed, evaluated, logs, rewardReport, startingLimit, sweep, lambda);
        PipelineResultFile.Save(_root, options, result);
        return result;
    }

    /// <summary>Starts <paramref name="work"/> on the next free lane (by its step and this seed's order), beside the other stages.</summary>
    private Task<T> OnLane<T>(ConcurrentStages stages, PipelineStep step, Func<Backend, CancellationToken, T> work) =>
        stages.Start(stop => lanes.Run(backend => work(backend, stop), stop, new StagePriority(step, order)));

    private static string FineName(Sparsification refine) => refine switch
    {
        Sparsification.Trim => PipelineStages.Fine,
        Sparsification.None => PipelineStages.FineNone,
        _ => PipelineStages.FineDare,
    };

    private sealed record DataDirectory(string Directory, ChainArithmeticDatasets Sets)
    {
        public string Path(string file) => System.IO.Path.Combine(Directory, file);
    }

    private DataDirectory PrepareData()
    {
        var directory = Path.Combine(_root, "data");
        var sets = ChainArithmeticDatasets.Build(options.Data);
        Report("data", $"{sets.Pretraining.Count} pretraining texts, {sets.InstructionSft.Count} SFT, {sets.Preferences.Count} preference pairs, " +
            $"{sets.PpoPrompts.Count} PPO prompts, {sets.ValidationPrompts.Count} validation and {sets.Evaluation.Count} held-out prompts");
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

    private string Sft(Backend backend, string stage, string model, string data, SftOptions sft, CancellationToken cancellation)
    {
        var run = Path.Combine(_root, stage);
        using var trainer = new CheckpointDirectory(run).Latest is null
            ? SftTrainer.Start(new RunSpec<SftOptions>(model, data, sft with { Seed = options.Seed }), run, backend)
            : SftTrainer.Resume(run, backend);
        return trainer.Run(Forward<SftStepMetrics>(stage, sft.Steps, m => $"loss {m.Loss:F3}"), cancellation);
    }

    private string RewardModel(Backend backend, string model, string data, CancellationToken cancellation)
    {
        const string stage = "reward-model";
        var run = Path.Combine(_root, stage);
        using var trainer = new CheckpointDirectory(run).Latest is null
            ? RewardModelTrainer.Start(new RunSpec<RewardModelOptions>(model, data, options.RewardModel with { Seed = options.Seed }), run, backend)
            : RewardModelTrainer.Resume(run, backend);
        return trainer.Run(Forward<RewardModelStepMetrics>(stage, options.RewardModel.Steps, m => $"loss {m.Loss:F3} accuracy {m.Accuracy:P0}"), cancellation);
    }

    /// <summary>
    /// The reward model on held-out and validation pairs, and on the base model's sampled answers to the held-out and to the
    /// validation prompts (<see cref="PipelineOptions.RankedSamplesPerPrompt"/> each).
    /// </summary>
    private RewardModelReport MeasureRewardModel(Backend backend, string rewardModelDirectory, string baseModel, DataDirectory data, CancellationToken cancellation)
    {
        Report("reward model", "held-out pairs, validation pairs, the base model's own answers");
        var tokenizer = MistralTokenizer.Load(baseModel);
        using var rewardModel = MistralCheckpoint.LoadSequenceClassifier(rewardModelDirectory, backend);
        using var policy = MistralCheckpoint.LoadModel(baseModel, backend);
        SampleRanking Rank(IReadOnlyList<PromptResponseExample> prompts, int seed)
        {
            var repeated = prompts.SelectMany(prompt => Enumerable.Repeat(prompt, options.RankedSamplesPerPrompt)).ToList();
            var samples = BaseSamples.Draw(policy, tokenizer, repeated, options.Ppo.ContinuousMaximization.MaxLengthLimit, seed, cancellation);
            var scores = samples.Score(rewardModel, tokenizer);
            return new SampleRanking(RocAuc.Compute(scores, samples.Correct), samples.Correct.Average(c => c ? 1.0 : 0.0), repeated.Count,
                RocAuc.WithinGroups(scores, samples.Correct, options.RankedSamplesPerPrompt), RocAuc.Compute(scores, samples.WorkedRight), samples.LuckyShare);
        }
        var report = new RewardModelReport(
            RewardModelEvaluation.Accuracy(rewardModel, tokenizer, data.Sets.HeldOutPreferences),
            RewardModelEvaluation.Accuracy(rewardModel, tokenizer, data.Sets.ValidationPreferences),
            Rank(data.Sets.Evaluation, seed: options.Seed + 2), Rank(data.Sets.ValidationPrompts, seed: options.Seed),
            RewardModelEvaluation.Accuracy(rewardModel, tokenizer, data.Sets.UnitsSlipProbe).Accuracy);
        // Said before PPO starts: a reward model that cannot tell right from wrong makes every later stage's minutes moot.
        Result("reward model", string.Create(CultureInfo.InvariantCulture,
            $"held-out pairs {report.HeldOut.Accuracy:P1}, ROC AUC on the base model's answers to held-out prompts {report.HeldOutSamples.Auc?.ToString("F3", CultureInfo.InvariantCulture) ?? "undefined"}"));
        return report;
    }

    /// <summary>
    /// L₀: a quantile of the lengths of the base model's answers to training prompts (sampled, as PPO samples) that show their
    /// work (<see cref="Pipeline.StartingLimit"/>), saved so a resumed run keeps it.
    /// </summary>
    private int StartingLimit(Backend backend, string baseModel, DataDirectory data, CancellationToken cancellation)
    {
        var path = Path.Combine(_root, "starting-limit.json");
        if (File.Exists(path)) return JsonNode.Parse(File.ReadAllText(path))!["starting_length_limit"]!.GetValue<int>();
        var prompts = data.Sets.PpoPrompts.Take(options.StartingLimitSamples).ToList();
        Report("starting limit", $"the base model's answer lengths to {prompts.Count} training prompts");
        using var policy = MistralCheckpoint.LoadModel(baseModel, backend);
        var tokenizer = MistralTokenizer.Load(baseModel);
        var samples = BaseSamples.Draw(policy, tokenizer, prompts,
            options.Ppo.ContinuousMaximization.MaxLengthLimit, seed: options.Seed + 1, cancellation);
        int limit = Pipeline.StartingLimit.Choose(samples.Lengths, samples.ShowsWork, options.StartingLimitQuantile);
        int worked = samples.ShowsWork.Count(w => w);
        var json = new JsonObject
        {
            ["starting_length_limit"] = limit, ["quantile"] = options.StartingLimitQuantile, ["answers_showing_work"] = worked,
            ["lengths"] = new JsonArray([.. samples.Lengths.Order().Select(l => (JsonNode)l)]),
        };
        AtomicFile.WriteAllText(path, json.ToJsonString() + "\n");
        string quantile = options.StartingLimitQuantile.ToString(CultureInfo.InvariantCulture), answers = samples.Lengths.Count.ToString(CultureInfo.InvariantCulture);
        Result("starting limit", worked > 0
            ? $"L₀ = {limit} tokens (quantile {quantile} of the {worked} of {answers} answers that show their work)"
            : $"L₀ = {limit} tokens (quantile {quantile} of {answers} answers, none of which shows its work)");
        return limit;
    }

    private string Ppo(Backend backend, string run, string model, string rewardModel, DataDirectory data, ContinuousMaximizationOptions limit, RewardSource reward,
        CancellationToken cancellation)
    {
        var stage = Path.GetFileName(run);
        var spec = new RunSpec<PpoTrainingOptions>(model, data.Path(ChainArithmeticDatasets.PpoPromptsFileName), new PpoTrainingOptions
        {
            Iterations = options.PpoIterations, RolloutsPerIteration = options.RolloutsPerIteration, RewardModelDirectory = rewardModel,
            Ppo = options.Ppo with { ContinuousMaximization = limit }, Reward = reward, ValidationPrompts = data.Path(ChainArithmeticDatasets.ValidationFileName),
            ValidationMaxTokens = options.EvaluationMaxTokens, SaveEvery = Math.Max(1, options.PpoIterations / 4), Seed = options.Seed,
        });
        using var trainer = new CheckpointDirectory(run).Latest is null ? PpoTrainer.Start(spec, run, backend) : PpoTrainer.Resume(run, backend);
        var final = trainer.Run(Forward<PpoIterationMetrics>(stage, options.PpoIterations,
            m => $"score {m[PpoMetrics.Scores]:F3} limit {m[PpoMetrics.LengthLimit]:F0} length {m[PpoMetrics.ResponseLength]:F1}"), cancellation);
        return PpoTrainer.ActorOf(final);
    }

    /// <summary>
    /// The λ sweep of the Fine Actor (trim) on the validation prompts, each λ merged and measured on a lane; the best one (the
    /// smaller on a tie) is the Fine Actor's.
    /// </summary>
    private (List<(float Lambda, double ValidationAccuracy)> Sweep, float Best) ChooseLambda(ConcurrentStages stages, string baseModel, string coarse,
        string instruct, DataDirectory data)
    {
        var accuracies = options.Lambdas.Select(lambda => OnLane(stages, PipelineStep.Merging, (backend, stop) =>
        {
            var evaluator = new StageEvaluator(MistralTokenizer.Load(instruct), options.EvaluationMaxTokens);
            var merged = Merge(baseModel, coarse, instruct, options.Refinements[0], lambda, stop);
            Report("λ sweep", $"λ={Format(lambda)} on the validation prompts");
            using var model = MistralCheckpoint.LoadModel(merged, backend);
            return evaluator.Evaluate(model, data.Sets.ValidationPrompts, rewardModel: null, heldOutText: null, stop).Metrics.Responses.Accuracy;
        })).ToList();
        var sweep = options.Lambdas.Zip(accuracies, (lambda, accuracy) => (lambda, stages.Result(accuracy))).ToList();
        var best = sweep.OrderByDescending(s => s.Item2).ThenBy(s => s.Item1).First();
        Result("λ sweep", string.Create(CultureInfo.InvariantCulture, $"λ = {Format(best.Item1)} ({best.Item2:P1} of the validation prompts right)"));
        return (sweep, best.Item1);
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
    private string? Refine(Backend backend, string coarse, string fine, DataDirectory data, SftOptions refinement, CancellationToken cancellation)
    {
        var path = Path.Combine(_root, "refinement-data.jsonl");
        if (!File.Exists(path))
        {
            Report("refinement data", "the coarse actor answers training prompts; redundant spans removed, wrong answers dropped");
            using var actor = MistralCheckpoint.LoadModel(coarse, backend);
            var prompts = data.Sets.PpoPrompts.Take(options.RefinementPrompts).ToList();
            var examples = RefinementData.Build(actor, MistralTokenizer.Load(coarse), prompts, options.EvaluationMaxTokens, cancellation);
            if (examples.Count == 0) return null;
            SftJsonlWriter.Write(path, examples);
        }
        return Sft(backend, "fine-actor-refinement-sft", fine, path, refinement, cancellation);
    }

    /// <summary>One model on the held-out prompts, scored by the reward model too.</summary>
    private StageRow Evaluate(Backend backend, (string Name, string Path) model, string rewardModelDirectory, DataDirectory data, CancellationToken cancellation)
    {
        Report("evaluation", model.Name);
        var evaluator = new StageEvaluator(MistralTokenizer.Load(model.Path), options.EvaluationMaxTokens);
        using var rewardModel = MistralCheckpoint.LoadSequenceClassifier(rewardModelDirectory, backend);
        using var loaded = MistralCheckpoint.LoadModel(model.Path, backend);
        return new StageRow(model.Name, evaluator.Evaluate(loaded, data.Sets.Evaluation, rewardModel, data.Sets.HeldOutText, cancellation).Metrics);
    }

    private static List<PpoIterationRecord> PpoLog(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(line => JsonNode.Parse(line)!).Select(m => new PpoIterationRecord(
            m["step"]!.GetValue<int>(), Value(m, PpoMetrics.RewardModelScores), Value(m, PpoMetrics.Kl), (int)Value(m, PpoMetrics.LengthLimit),
            Value(m, PpoMetrics.ResponseLength), Value(m, PpoMetrics.TruncationRate), Optional(m, PpoMetrics.RewardModelAuc),
            Optional(m, PpoMetrics.Accuracy), Optional(m, PpoMetrics.EvalAccuracy))).ToList();

    private static double Value(JsonNode metrics, string key) => metrics[key]?.GetValue<double>() ?? double.NaN;

    private static double? Optional(JsonNode metrics, string key) => metrics[key]?.GetValue<double>();

    private static string Name(Sparsification refine) => refine.ToString().ToLowerInvariant();

    private static string Format(float lambda) => lambda.ToString("0.##", CultureInfo.InvariantCulture);

    private IProgress<T> Forward<T>(string stage, int total, Func<T, string> describe) where T : IStepReport =>
        new Forwarder<T>(report => Report(stage, describe(report), report.Step, total));

    private void Report(string stage, string message, int step = 0, int total = 0) => progress?.Report(new PipelineProgress(stage, message, step, total));

    private void Result(string stage, string message) => progress?.Report(new PipelineProgress(stage, message, IsResult: true));

    private sealed class Forwarder<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
