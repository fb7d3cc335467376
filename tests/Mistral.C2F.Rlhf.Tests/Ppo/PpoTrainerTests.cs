using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Ppo.Training;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class PpoTrainerTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _policy, _rewardModel, _prompts;

    public PpoTrainerTests()
    {
        _policy = TinyCheckpoint.Write(Path.Combine(_directory.Path, "policy"));
        // A reward model that likes sevens: responses of 7s against responses of other digits.
        var random = new Random(3);
        var pairs = Enumerable.Range(0, 48).Select(_ => new PreferencePair("Say a number.",
            string.Join(" ", Enumerable.Repeat("7", random.Next(1, 4))),
            string.Join(" ", Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(0, 7))))).ToList();
        var pairsPath = Path.Combine(_directory.Path, "pairs.jsonl");
        PreferenceJsonl.Write(pairsPath, pairs);
        using (var rm = RewardModelTrainer.Start(new RunSpec<RewardModelOptions>(_policy, pairsPath,
                   new RewardModelOptions { Steps = 40, BatchSize = 8, MaxLength = 16, LearningRate = 3e-3, WarmupSteps = 2, SaveEvery = 40 }),
                   Path.Combine(_directory.Path, "rm"), new CpuBackend(2)))
            _rewardModel = rm.Run(cancellation: TestContext.Current.CancellationToken);
        _prompts = Path.Combine(_directory.Path, "prompts.jsonl");
        SftJsonlWriter.Write(_prompts, Enumerable.Range(0, 8).Select(_ => new PromptResponseExample("Say a number.", "7")));
    }

    public void Dispose() => _directory.Dispose();

    private RunSpec<PpoTrainingOptions> Spec(int iterations, bool fixedLimit = true) => new(_policy, _prompts, new PpoTrainingOptions
    {
        Iterations = iterations, RolloutsPerIteration = 16, RewardModelDirectory = _rewardModel, SaveEvery = 4, Seed = 5,
        Ppo = new PpoOptions
        {
            KlCoef = 0.01, AdaptiveKlControl = false, ActorLearningRate = 2e-3, CriticLearningRate = 2e-3, NumPpoEpochs = 2, NumMiniBatches = 2,
            LrSchedulerType = LrSchedulerType.Constant,
            ContinuousMaximization = new ContinuousMaximizationOptions { InitialLengthLimit = 3, MaxLengthLimit = 12, FixedLimit = fixedLimit, GrowthRate = 0.5 },
        },
    });

    private static List<JsonNode> Metrics(string run) => File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();

    /// <summary>
    /// With the answer checker as the reward, a rollout scores 1 when it says 7 and 0 otherwise, so the mean score is the
    /// rollout accuracy; the reward model still scores every rollout for the log, with its AUC against the checker; the
    /// validation prompts are answered greedily after each iteration; a frozen actor stays put while the critic learns, and
    /// the cosine schedule then decays the actor's learning rate.
    /// </summary>
    [Fact]
    public void The_answer_checker_can_be_the_reward_and_the_log_measures_the_reward_model_and_the_validation_accuracy()
    {
        var run = Path.Combine(_directory.Path, "checker");
        var spec = Spec(iterations: 5);
        spec = spec with
        {
            Options = spec.Options with
            {
                Reward = RewardSource.AnswerChecker, ValidationPrompts = _prompts, ValidationMaxTokens = 3,
                Ppo = spec.Options.Ppo with { FreezingActorSteps = 2, LrSchedulerType = LrSchedulerType.CosineWithMinLr },
            },
        };
        using (var trainer = PpoTrainer.Start(spec, run, new CpuBackend(2))) trainer.Run(cancellation: TestContext.Current.CancellationToken);
        var metrics = Metrics(run);
        Assert.All(metrics, m =>
        {
            Assert.Equal(m[PpoMetrics.Accuracy]!.GetValue<double>(), m[PpoMetrics.Scores]!.GetValue<double>(), 12);
            Assert.NotNull(m[PpoMetrics.RewardModelScores]);
            Assert.InRange(m[PpoMetrics.EvalAccuracy]!.GetValue<double>(), 0, 1);
        });
        Assert.Contains(metrics, m => m[PpoMetrics.RewardModelAuc] is not null);
        var rates = metrics.Select(m => m[PpoMetrics.LearningRate]!.GetValue<double>()).ToList();
        Assert.Equal([0.0, 0.0], rates.Take(2));
        Assert.True(rates[2] > rates[3] && rates[3] > rates[4] && rates[4] > 0, string.Join(", ", rates));
        Assert.Equal(0, metrics[0][PpoMetrics.ApproxKl]!.GetValue<double>(), 12); // the frozen actor's ratio is 1
    }

    [Fact]
    public void A_short_run_raises_the_reward_model_score()
    {
        var run = Path.Combine(_directory.Path, "ppo");
        using (var trainer = PpoTrainer.Start(Spec(iterations: 12), run, new CpuBackend(2)))
            trainer.Run(cancellation: TestContext.Current.CancellationToken);
        var scores = Metrics(run).Select(m => m[PpoMetrics.Scores]!.GetValue<double>()).ToList();
        Assert.True(scores.TakeLast(3).Average() > scores.Take(3).Average() + 0.2,
            $"scores per iteration: {string.Join(", ", scores.Select(s => s.ToString("F3")))}");
        Assert.All(Metrics(run), m => Assert.Equal(3, m[PpoMetrics.LengthLimit]!.GetValue<double>()));
    }

    [Fact]
    public void The_length_limit_grows_under_continuous_maximization_and_a_resumed_run_repeats_the_uninterrupted_one()
    {
        var straight = Path.Combine(_directory.Path, "straight");
        using (var trainer = PpoTrainer.Start(Spec(iterations: 6, fixedLimit: false), straight, new CpuBackend(2)))
            trainer.Run(cancellation: TestContext.Current.CancellationToken);
        var limits = Metrics(straight).Select(m => m[PpoMetrics.LengthLimit]!.GetValue<double>()).ToList();
        Assert.True(limits.Zip(limits.Skip(1)).All(p => p.Second >= p.First), $"limits {string.Join(", ", limits)}");
        Assert.True(limits[^1] > limits[0], $"limits {string.Join(", ", limits)}");

        var resumed = Path.Combine(_directory.Path, "resumed");
        using (var interrupt = new CancellationTokenSource())
        using (var trainer = PpoTrainer.Start(Spec(iterations: 6, fixedLimit: false), resumed, new CpuBackend(2)))
        {
            var progress = new Progress(m =>
            {
                if (m.Step == 4) interrupt.Cancel();
            });
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Run(progress, interrupt.Token));
        }
        using (var trainer = PpoTrainer.Resume(resumed, new CpuBackend(2)))
        {
            Assert.Equal(4, trainer.Step);
            trainer.Run(cancellation: TestContext.Current.CancellationToken);
        }
        string Strip(JsonNode m)
        {
            m.AsObject().Remove("seconds");
            return m.ToJsonString();
        }
        Assert.Equal(Metrics(straight).Select(Strip), Metrics(resumed).Select(Strip));
    }

    private sealed class Progress(Action<PpoIterationMetrics> report) : IProgress<PpoIterationMetrics>
    {
        public void Report(PpoIterationMetrics value) => report(value);
    }
}
