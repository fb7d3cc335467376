using System.CommandLine;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Ppo.Training;
using Mistral.C2F.Rlhf.Training;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f train ppo</c>: the Coarse Actor — PPO with Continuous Maximization from a policy, a reward model and prompts.
/// Every PPO setting has a flag with TRL's name; <c>--config</c> reads them all from a JSON file instead. Under <c>mpirun -np N</c> the
/// ranks share every iteration's rollouts and mini-batches (data parallelism); rank 0 writes checkpoints and metrics.
/// </summary>
internal static class TrainPpoCommand
{
    public static Command Create()
    {
        var defaults = new PpoTrainingOptions();
        var model = new Option<string>("--model") { Description = "Starting policy (Hugging Face causal LM directory); also the KL reference unless --reference" };
        var prompts = new Option<FileInfo>("--prompts") { Description = "JSONL of {\"prompt\"} (or {\"prompt\",\"response\"}, the response ignored) lines" };
        var rewardModel = new Option<string>("--reward-model") { Description = "Reward model directory (from c2f train rm)" };
        var reward = new Option<string>("--reward")
        {
            Description = "Where rollouts' scores come from: reward-model, or answer-checker (1 for a right final answer, 0 otherwise: the " +
                "verifiable-reward ablation; every prompt needs a {\"prompt\",\"response\"} line with a checkable answer; the reward model still logs its scores)",
            DefaultValueFactory = _ => "reward-model",
        }.AcceptOnlyFromAmong("reward-model", "answer-checker");
        var validation = new Option<FileInfo>("--validation")
        {
            Description = "JSONL of {\"prompt\",\"response\"} lines with checkable answers, answered greedily after every iteration " +
                $"({defaults.ValidationMaxTokens} tokens): eval/accuracy in the log. Settings are chosen here; keep held-out prompts out",
        };
        var critic = new Option<string>("--critic") { Description = "Critic's starting point (default: the reward model)" };
        var reference = new Option<string>("--reference") { Description = "Frozen reference policy for the KL penalty (default: --model)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run directory: checkpoints (actor/, critic/), metrics.jsonl", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest checkpoint" };
        var config = new Option<FileInfo>("--config") { Description = "JSON of PPO options with TRL's names (kl_coef, cliprange, …, continuous_maximization)" };
        var iterations = new Option<int?>("--iterations") { Description = $"PPO iterations (default {defaults.Iterations})" }.AtLeast(1);
        var rollouts = new Option<int?>("--rollouts") { Description = $"Prompts rolled out per iteration (default {defaults.RolloutsPerIteration})" }.AtLeast(1);
        var klCoef = new Option<double?>("--kl-coef") { Description = $"Initial KL coefficient β (default {defaults.Ppo.KlCoef})" };
        var fixedKl = new Option<bool>("--fixed-kl") { Description = "Keep β fixed (no adaptive KL controller)" };
        var actorLr = new Option<double?>("--actor-lr") { Description = $"Actor learning rate (default {defaults.Ppo.ActorLearningRate})" };
        var criticLr = new Option<double?>("--critic-lr") { Description = $"Critic learning rate (default {defaults.Ppo.CriticLearningRate})" };
        var lengthLimit = new Option<int?>("--length-limit") { Description = $"Initial rollout length limit L₀ (default {defaults.Ppo.ContinuousMaximization.InitialLengthLimit})" }.AtLeast(1);
        var maxLengthLimit = new Option<int?>("--max-length-limit") { Description = $"Largest length limit (default {defaults.Ppo.ContinuousMaximization.MaxLengthLimit})" }.AtLeast(1);
        var fixedLimit = new Option<bool>("--fixed-limit") { Description = "Ablation: keep the length limit at L₀ (no Continuous Maximization)" };
        var saveEvery = new Option<int?>("--save-every") { Description = $"Checkpoint interval in iterations (default {defaults.SaveEvery})" }.AtLeast(1);
        var seed = new Option<int?>("--seed") { Description = "Seed of prompt order and sampling (default 0)" };
        var threads = CommonOptions.Threads();
        var backendName = CommonOptions.Backend();
        var zero1 = Zero1Option.Create();
        var command = new Command("ppo", "PPO with Continuous Maximization (the Coarse Actor)")
        {
            model, prompts, rewardModel, reward, validation, critic, reference, output, resume, config, iterations, rollouts, klCoef, fixedKl, actorLr, criticLr,
            lengthLimit, maxLengthLimit, fixedLimit, saveEvery, seed, threads, backendName, zero1,
        };
        command.SetAction((parse, cancellation) =>
        {
            var runDirectory = parse.GetRequiredValue(output).FullName;
            using var communicator = JobLaunch.Join();
            bool shard = Zero1Option.Requested(parse, zero1, communicator);
            PpoTrainingOptions Change(PpoTrainingOptions o) => o with
            {
                Iterations = parse.GetValue(iterations) ?? o.Iterations,
                SaveEvery = parse.GetValue(saveEvery) ?? o.SaveEvery,
                Optimizer = o.Optimizer with { ShardOverRanks = shard },
            };
            if (parse.GetValue(resume))
            {
                ResumeOptions.RequireOnly(parse, command, output, resume, iterations, saveEvery, threads, backendName, zero1);
                var saved = RunSpec<PpoTrainingOptions>.Load(runDirectory).Options;
                int done = PpoState.Load(RunDirectories.LatestCheckpoint(runDirectory)).Iteration;
                ResumeOptions.RequireStepsLeft(done, Change(saved).Iterations, runDirectory, "--iterations");
                if (saved.Ppo.Schedule(saved.Ppo.ActorLearningRate, saved.Iterations) is { } actorSchedule)
                    ResumeOptions.WarnScheduleChange(done, actorSchedule, actorSchedule with { TotalSteps = Change(saved).Iterations }, "iteration");
            }
            using var backend = CommonOptions.CreateBackend(parse.GetRequiredValue(backendName), parse.GetValue(threads));
            using var nccl = GpuCollectives.Join(communicator, backend);
            PpoTrainer trainer;
            if (parse.GetValue(resume)) trainer = PpoTrainer.Resume(runDirectory, backend, Change, nccl ?? communicator);
            else
            {
                var (policy, promptFile, rm) = (parse.GetValue(model), parse.GetValue(prompts), parse.GetValue(rewardModel));
                if (policy is null || promptFile is null || rm is null)
                    throw new ArgumentException("give --model, --prompts and --reward-model (or --resume with --out)");
                var ppo = parse.GetValue(config) is { } file ? PpoOptions.Load(file.FullName) : defaults.Ppo;
                var cm = ppo.ContinuousMaximization;
                ppo = ppo with
                {
                    KlCoef = parse.GetValue(klCoef) ?? ppo.KlCoef,
                    AdaptiveKlControl = ppo.AdaptiveKlControl && !parse.GetValue(fixedKl),
                    ActorLearningRate = parse.GetValue(actorLr) ?? ppo.ActorLearningRate,
                    CriticLearningRate = parse.GetValue(criticLr) ?? ppo.CriticLearningRate,
                    ContinuousMaximization = cm with
                    {
                        InitialLengthLimit = parse.GetValue(lengthLimit) ?? cm.InitialLengthLimit,
                        MaxLengthLimit = parse.GetValue(maxLengthLimit) ?? cm.MaxLengthLimit,
                        FixedLimit = cm.FixedLimit || parse.GetValue(fixedLimit),
                    },
                };
                var options = defaults with
                {
                    Iterations = parse.GetValue(iterations) ?? defaults.Iterations,
                    RolloutsPerIteration = parse.GetValue(rollouts) ?? defaults.RolloutsPerIteration,
                    RewardModelDirectory = CommonOptions.ExistingDirectory(rm),
                    Reward = parse.GetRequiredValue(reward) == "answer-checker" ? RewardSource.AnswerChecker : RewardSource.RewardModel,
                    ValidationPrompts = parse.GetValue(validation)?.FullName,
                    CriticDirectory = parse.GetValue(critic) is { } c ? CommonOptions.ExistingDirectory(c) : null,
                    ReferenceDirectory = parse.GetValue(reference) is { } r ? CommonOptions.ExistingDirectory(r) : null,
                    Ppo = ppo,
                    SaveEvery = parse.GetValue(saveEvery) ?? defaults.SaveEvery,
                    Seed = parse.GetValue(seed) ?? defaults.Seed,
                    Optimizer = defaults.Optimizer with { ShardOverRanks = shard },
                };
                trainer = PpoTrainer.Start(new RunSpec<PpoTrainingOptions>(CommonOptions.ExistingDirectory(policy), promptFile.FullName, options),
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
                var (final, history) = TrainingProgress.Show<PpoIterationMetrics>(trainer.Step, trainer.Options.Iterations,
                    m => $"score {m[PpoMetrics.Scores]:F3} kl {m[PpoMetrics.Kl]:F3} limit {m[PpoMetrics.LengthLimit]:F0} length {m[PpoMetrics.ResponseLength]:F1}",
                    progress => trainer.Run(progress, cancellation));
                if (history.Count > 0)
                    AnsiConsole.MarkupLine($"scores {history[0][PpoMetrics.Scores]:F3} → {history[^1][PpoMetrics.Scores]:F3}, " +
                        $"length limit {history[0][PpoMetrics.LengthLimit]:F0} → {history[^1][PpoMetrics.NextLengthLimit]:F0}; " +
                        $"actor in {Markup.Escape(PpoTrainer.ActorOf(final))}");
            }
            return Task.CompletedTask;
        });
        return command;
    }
}
