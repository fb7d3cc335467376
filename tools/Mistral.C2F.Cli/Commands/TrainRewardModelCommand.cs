using System.CommandLine;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.Training;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f train rm</c>: a reward model from preference pairs, starting from a causal LM or a reward model. Under <c>mpirun
/// -np N</c> the ranks share the pairs of every batch; rank 0 writes the run and shows the progress.
/// </summary>
internal static class TrainRewardModelCommand
{
    public static Command Create()
    {
        var defaults = new RewardModelOptions();
        var model = new Option<string>("--model") { Description = "Starting model directory (a causal LM gets a zero score head)" };
        var data = new Option<FileInfo>("--data") { Description = "JSONL with {\"prompt\", \"chosen\", \"rejected\", \"margin\"?} per line" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run directory: checkpoints, metrics.jsonl", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest checkpoint" };
        var steps = new Option<int?>("--steps") { Description = $"Optimizer steps (default {defaults.Steps})" }.AtLeast(1);
        var batch = new Option<int?>("--batch") { Description = $"Pairs per step (default {defaults.BatchSize})" }.AtLeast(1);
        var maxLength = new Option<int?>("--max-length") { Description = $"Longest prompt + response in tokens (default {defaults.MaxLength})" }.AtLeast(3);
        var learningRate = new Option<double?>("--lr") { Description = $"Peak learning rate (default {defaults.LearningRate})" };
        var warmup = new Option<int?>("--warmup") { Description = $"Warmup steps (default {defaults.WarmupSteps})" }.AtLeast(0);
        var saveEvery = new Option<int?>("--save-every") { Description = $"Checkpoint interval (default {defaults.SaveEvery})" }.AtLeast(1);
        var seed = new Option<int?>("--seed") { Description = "Data shuffling seed (default 0)" };
        var centerRewards = new Option<double?>("--center-rewards-coefficient")
        {
            Description = $"Weight of (r_chosen + r_rejected)² in the loss, TRL's center_rewards_coefficient: scores comparable across prompts (default {defaults.CenterRewardsCoefficient})",
        };
        var groupByLength = new Option<bool>("--group-by-length") { Description = "Batches of pairs of similar length: less padding" };
        var threads = CommonOptions.Threads();
        var backendName = CommonOptions.Backend();
        var zero1 = Zero1Option.Create();
        var command = new Command("rm", "Train a reward model (Bradley–Terry loss on preference pairs)")
        {
            model, data, output, resume, steps, batch, maxLength, learningRate, warmup, saveEvery, seed, centerRewards, groupByLength, threads, backendName, zero1,
        };
        command.SetAction((parse, cancellation) =>
        {
            var runDirectory = parse.GetRequiredValue(output).FullName;
            using var communicator = JobLaunch.Join();
            bool shard = Zero1Option.Requested(parse, zero1, communicator);
            RewardModelTrainer trainer;
            RewardModelOptions Change(RewardModelOptions o) => o with
            {
                Steps = parse.GetValue(steps) ?? o.Steps,
                SaveEvery = parse.GetValue(saveEvery) ?? o.SaveEvery,
                Optimizer = o.Optimizer with { ShardOverRanks = shard },
            };
            if (parse.GetValue(resume))
            {
                ResumeOptions.RequireOnly(parse, command, output, resume, steps, saveEvery, threads, backendName, zero1);
                var saved = RunSpec<RewardModelOptions>.Load(runDirectory).Options;
                int done = TrainerState.Load(RunDirectories.LatestCheckpoint(runDirectory)).Step;
                ResumeOptions.RequireStepsLeft(done, Change(saved).Steps, runDirectory, "--steps");
                ResumeOptions.WarnScheduleChange(done, saved.Schedule(), Change(saved).Schedule(), "step");
            }
            using var backend = CommonOptions.CreateBackend(parse.GetRequiredValue(backendName), parse.GetValue(threads));
            using var nccl = GpuCollectives.Join(communicator, backend);
            if (parse.GetValue(resume)) trainer = RewardModelTrainer.Resume(runDirectory, backend, Change, nccl ?? communicator);
            else
            {
                var (modelDirectory, dataFile) = (parse.GetValue(model), parse.GetValue(data));
                if (modelDirectory is null || dataFile is null) throw new ArgumentException("give --model and --data (or --resume with --out)");
                var options = defaults with
                {
                    Steps = parse.GetValue(steps) ?? defaults.Steps,
                    BatchSize = parse.GetValue(batch) ?? defaults.BatchSize,
                    MaxLength = parse.GetValue(maxLength) ?? defaults.MaxLength,
                    LearningRate = parse.GetValue(learningRate) ?? defaults.LearningRate,
                    WarmupSteps = parse.GetValue(warmup) ?? defaults.WarmupSteps,
                    SaveEvery = parse.GetValue(saveEvery) ?? defaults.SaveEvery,
                    Seed = parse.GetValue(seed) ?? defaults.Seed,
                    CenterRewardsCoefficient = parse.GetValue(centerRewards) ?? defaults.CenterRewardsCoefficient,
                    GroupByLength = parse.GetValue(groupByLength),
                    Optimizer = defaults.Optimizer with { ShardOverRanks = shard },
                };
                trainer = RewardModelTrainer.Start(new RunSpec<RewardModelOptions>(CommonOptions.ExistingDirectory(modelDirectory), dataFile.FullName, options),
                    runDirectory, backend, nccl ?? communicator);
            }
            using (trainer)
            {
                if (!communicator.IsRoot)
                {
                    trainer.Run(cancellation: cancellation);
                    return Task.CompletedTask;
                }
                Zero1Option.Report(communicator, trainer.Options.Optimizer.ShardOverRanks, trainer.OptimizerState.Kept, trainer.OptimizerState.Total);
                var (final, history) = TrainingProgress.Show<RewardModelStepMetrics>(trainer.Step, trainer.Options.Steps,
                    m => $"loss {m.Loss:F4} accuracy {m.Accuracy:P0} margin {m.ChosenMean - m.RejectedMean:F3}",
                    progress => trainer.Run(progress, cancellation));
                var last = history.TakeLast(Math.Max(1, Math.Min(10, history.Count))).ToList();
                if (last.Count > 0)
                    AnsiConsole.MarkupLine($"last {last.Count} steps: loss {last.Average(m => m.Loss):F4}, accuracy {last.Average(m => m.Accuracy):P1}; " +
                        $"reward model in {Markup.Escape(final)}");
            }
            return Task.CompletedTask;
        });
        return command;
    }
}
