using Mistral.C2F.Rlhf.Training;
using System.CommandLine;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Sft;
using Mistral.C2F.Rlhf.Sft.Data;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f train sft</c>: supervised fine-tuning from a model directory and a JSONL file, or offline on the built-in
/// tiny model and dataset (<c>--preset tiny</c>); <c>--resume</c> continues a run from its latest checkpoint. Under
/// <c>mpirun -np N</c> the ranks share every batch (data parallelism); rank 0 prepares the tiny preset's files, writes
/// the run and shows the progress.
/// </summary>
internal static class TrainSftCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory to fine-tune (Hugging Face layout)" };
        var data = new Option<FileInfo>("--data") { Description = "JSONL with {\"text\"}, {\"prompt\",\"response\"} or {\"messages\"} per line" };
        var preset = new Option<string>("--preset") { Description = "Train offline: 'tiny' creates a random tiny model and the built-in task data" }
            .AcceptOnlyFromAmong("tiny");
        var output = new Option<DirectoryInfo>("--out") { Description = "Run directory: checkpoints, metrics.jsonl", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest checkpoint" };
        var defaults = new SftOptions();
        var steps = new Option<int?>("--steps") { Description = $"Optimizer steps (default {defaults.Steps}.AtLeast(1); tiny: {TinyOptions.Steps})" };
        var batch = new Option<int?>("--batch") { Description = $"Sequences per step (default {defaults.BatchSize})" }.AtLeast(1);
        var microBatch = new Option<int?>("--micro-batch") { Description = "Sequences per forward/backward pass (default: --batch)" }.AtLeast(1);
        var sequence = new Option<int?>("--seq") { Description = $"Tokens per packed sequence (default {defaults.SequenceLength})" }.AtLeast(2);
        var learningRate = new Option<double?>("--lr") { Description = $"Peak learning rate (default {defaults.LearningRate})" };
        var warmup = new Option<int?>("--warmup") { Description = $"Warmup steps (default {defaults.WarmupSteps})" }.AtLeast(0);
        var weightDecay = new Option<float?>("--weight-decay") { Description = "AdamW weight decay on projections (default 0)" };
        var maxGradNorm = new Option<double?>("--max-grad-norm") { Description = $"Gradient clipping, 0 = off (default {defaults.MaxGradNorm})" };
        var saveEvery = new Option<int?>("--save-every") { Description = $"Checkpoint interval in steps (default {defaults.SaveEvery})" }.AtLeast(1);
        var keep = new Option<int?>("--keep") { Description = $"Checkpoints kept (default {defaults.KeepCheckpoints})" }.AtLeast(1);
        var seed = new Option<int?>("--seed") { Description = "Data shuffling seed (default 0)" };
        var threads = CommonOptions.Threads();
        var backendName = CommonOptions.Backend();
        var zero1 = Zero1Option.Create();

        var sft = new Command("sft", "Supervised fine-tuning with checkpoints and exact resume")
        {
            model, data, preset, output, resume, steps, batch, microBatch, sequence, learningRate, warmup, weightDecay, maxGradNorm, saveEvery, keep, seed, threads, backendName, zero1,
        };
        sft.SetAction((parse, cancellation) =>
        {
            var runDirectory = parse.GetRequiredValue(output).FullName;
            using var communicator = JobLaunch.Join();
            bool shard = Zero1Option.Requested(parse, zero1, communicator);
            Engine.Backends.Backend CreateBackend() => CommonOptions.CreateBackend(parse.GetRequiredValue(backendName), parse.GetValue(threads));
            if (parse.GetValue(resume))
            {
                ResumeOptions.RequireOnly(parse, sft, output, resume, steps, saveEvery, keep, threads, backendName, zero1);
                SftOptions Change(SftOptions o) => o with
                {
                    Steps = parse.GetValue(steps) ?? o.Steps,
                    SaveEvery = parse.GetValue(saveEvery) ?? o.SaveEvery,
                    KeepCheckpoints = parse.GetValue(keep) ?? o.KeepCheckpoints,
                    Optimizer = o.Optimizer with { ShardOverRanks = shard },
                };
                var saved = RunSpec<SftOptions>.Load(runDirectory).Options;
                int done = TrainerState.Load(RunDirectories.LatestCheckpoint(runDirectory)).Step;
                ResumeOptions.RequireStepsLeft(done, Change(saved).Steps, runDirectory, "--steps");
                ResumeOptions.WarnScheduleChange(done, saved.Schedule, Change(saved).Schedule, "step");
                using var backend = CreateBackend();
                using var nccl = GpuCollectives.Join(communicator, backend);
                using var trainer = SftTrainer.Resume(runDirectory, backend, Change, nccl ?? communicator);
                Train(trainer, communicator, cancellation);
                return Task.CompletedTask;
            }
            bool tiny = (parse.GetValue(preset), parse.GetValue(model), parse.GetValue(data)) switch
            {
                ("tiny", null, null) => true,
                (null, string, FileInfo) => false,
                _ => throw new ArgumentException("give --model and --data, or --preset tiny (or --resume with --out)"),
            };
            var baseOptions = tiny ? TinyOptions : defaults;
            var options = baseOptions with
            {
                Steps = parse.GetValue(steps) ?? baseOptions.Steps,
                BatchSize = parse.GetValue(batch) ?? baseOptions.BatchSize,
                MicroBatchSize = parse.GetValue(microBatch) ?? parse.GetValue(batch) ?? baseOptions.MicroBatchSize,
                SequenceLength = parse.GetValue(sequence) ?? baseOptions.SequenceLength,
                LearningRate = parse.GetValue(learningRate) ?? baseOptions.LearningRate,
                WarmupSteps = parse.GetValue(warmup) ?? baseOptions.WarmupSteps,
                Optimizer = baseOptions.Optimizer with
                {
                    WeightDecay = parse.GetValue(weightDecay) ?? baseOptions.Optimizer.WeightDecay,
                    ShardOverRanks = shard,
                },
                MaxGradNorm = parse.GetValue(maxGradNorm) ?? baseOptions.MaxGradNorm,
                SaveEvery = parse.GetValue(saveEvery) ?? baseOptions.SaveEvery,
                KeepCheckpoints = parse.GetValue(keep) ?? baseOptions.KeepCheckpoints,
                Seed = parse.GetValue(seed) ?? baseOptions.Seed,
            };
            // Every check that needs no files comes before the preset writes any.
            options.Validate();
            RunDirectories.RequireNoCheckpoints(runDirectory);
            using (var backend = CreateBackend())
            {
                if (tiny) SftTrainer.RequireFits(MistralPresets.Get("tiny"), options, backend);
                var (modelDirectory, dataPath) = tiny ? PrepareTiny(runDirectory, communicator)
                    : (CommonOptions.ExistingDirectory(parse.GetValue(model)!), parse.GetValue(data)!.FullName);
                using var nccl = GpuCollectives.Join(communicator, backend);
                using var trainer = SftTrainer.Start(new RunSpec<SftOptions>(modelDirectory, dataPath, options), runDirectory, backend, nccl ?? communicator);
                Train(trainer, communicator, cancellation);
            }
            return Task.CompletedTask;
        });
        return sft;
    }

    /// <summary>The built-in offline setting: small sequences of the task data, enough steps for the loss to fall clearly.</summary>
    private static readonly SftOptions TinyOptions = new()
    {
        Steps = 300, BatchSize = 16, MicroBatchSize = 16, SequenceLength = 64, LearningRate = 2e-3, WarmupSteps = 20, SaveEvery = 100,
    };

    /// <summary>The random tiny model and the built-in data, written by rank 0 while the other ranks wait.</summary>
    private static (string Model, string Data) PrepareTiny(string runDirectory, ICommunicator communicator)
    {
        var modelDirectory = Path.Combine(runDirectory, "base");
        var dataPath = Path.Combine(runDirectory, BuiltInSftData.DefaultFileName);
        if (communicator.IsRoot)
        {
            RandomCheckpoint.Ensure(modelDirectory, MistralPresets.Get("tiny"), seed: 0);
            if (!File.Exists(dataPath)) BuiltInSftData.Write(dataPath);
            AnsiConsole.MarkupLine($"[grey]tiny preset: random model in {Markup.Escape(modelDirectory)}, built-in data in {Markup.Escape(dataPath)}[/]");
        }
        communicator.Barrier();
        return (modelDirectory, dataPath);
    }

    private static void Train(SftTrainer trainer, ICommunicator communicator, CancellationToken cancellation)
    {
        if (!communicator.IsRoot)
        {
            trainer.Run(cancellation: cancellation);
            return;
        }
        var options = trainer.Options;
        if (communicator.Size > 1) AnsiConsole.MarkupLine($"[grey]data parallel: {communicator.Size} ranks, each {options.AccumulationSteps / communicator.Size} micro-batch(es) of every batch[/]");
        Zero1Option.Report(communicator, options.Optimizer.ShardOverRanks, trainer.OptimizerState.Kept, trainer.OptimizerState.Total);
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(trainer.RunDirectory)}: steps {trainer.Step + 1}..{options.Steps}, batch {options.BatchSize}×{options.SequenceLength} " +
            $"({options.AccumulationSteps} micro-batch(es)), lr {options.LearningRate}, metrics in {Path.GetFileName(trainer.MetricsPath)}[/]");
        var (final, history) = TrainingProgress.Show<SftStepMetrics>(trainer.Step, options.Steps,
            m => $"loss {m.Loss:F4} lr {m.LearningRate:E2} {m.TokensPerSecond:F0} tok/s", progress => trainer.Run(progress, cancellation));
        Summarize(history, final);
    }

    private static void Summarize(List<SftStepMetrics> history, string final)
    {
        var finite = history.Where(m => !m.Skipped).ToList();
        if (finite.Count == 0) return;
        int window = Math.Max(1, Math.Min(10, finite.Count / 4));
        var table = new Table().AddColumns("", "").Border(TableBorder.Rounded).HideHeaders();
        table.AddRow("loss, first steps", $"{finite.Take(window).Average(m => m.Loss):F4}");
        table.AddRow("loss, last steps", $"{finite.TakeLast(window).Average(m => m.Loss):F4}");
        table.AddRow("tokens/s (median)", $"{finite.Select(m => m.TokensPerSecond).Order().ElementAt(finite.Count / 2):F0}");
        table.AddRow("skipped steps (this session)", history.Count(h => h.Skipped).ToString());
        table.AddRow("final checkpoint", Markup.Escape(final));
        AnsiConsole.Write(table);
    }
}
