using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.RewardModel;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Tests.Support;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Tests.RewardModel;

[Trait("Backend", "cpu")]
public sealed class RewardModelTrainerTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _model;

    public RewardModelTrainerTests() => _model = TinyCheckpoint.Write(Path.Combine(_directory.Path, "base"));

    public void Dispose() => _directory.Dispose();

    /// <summary>Sums where the chosen answer is right and the rejected one is far off (a preference a random model can learn fast).</summary>
    private static List<PreferencePair> ArithmeticPairs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            int a = random.Next(10), b = random.Next(10);
            return new PreferencePair($"Add {a} and {b}.", $"{a + b}", $"{a + b + 100 * random.Next(1, 9)}");
        }).ToList();
    }

    [Fact]
    public void The_reward_is_read_at_each_rows_last_real_token_whatever_the_padding()
    {
        var tokenizer = MistralTokenizer.Load(_model);
        using var backend = new CpuBackend(2);
        using var model = new TrainableModel(MistralCheckpoint.LoadSequenceClassifier(_model, backend), new AdamWOptions(), stepStatistics: BradleyTerryStatistics.Count);
        var random = new Random(3);
        backend.Upload(Enumerable.Range(0, TinyCheckpoint.Config.HiddenSize).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), model.Model.Parameters["score.weight"]);
        PreferencePair[] pairs = [new("Add 1 and 2.", "3", "The sum of one and two is four, I think."), new("Sort 9, 3, 5, 1.", "1, 3, 5, 9", "9")];

        var together = backend.ToDoubles(RewardScoring.ForwardBackward(model, new PreferenceLoader(pairs, tokenizer, 2, 64, DataPosition.Start(0)).NextBatch(),
            centering: 0));
        foreach (var pair in pairs)
        {
            // Alone, each sequence is its own longest row: no padding at all.
            var alone = backend.ToDoubles(RewardScoring.ForwardBackward(model, new PreferenceLoader([pair], tokenizer, 1, 64, DataPosition.Start(0)).NextBatch(),
                centering: 0));
            Assert.Contains(together[..2], r => Math.Abs(r - alone[0]) < 1e-5);
            Assert.Contains(together[2..], r => Math.Abs(r - alone[1]) < 1e-5);
        }
    }

    [Fact]
    public void Training_learns_to_prefer_correct_sums_and_resumes()
    {
        var data = Path.Combine(_directory.Path, "pairs.jsonl");
        PreferenceJsonl.Write(data, ArithmeticPairs(64, seed: 5));
        var spec = new RunSpec<RewardModelOptions>(_model, data, new RewardModelOptions
        {
            Steps = 60, BatchSize = 8, MaxLength = 32, LearningRate = 3e-3, WarmupSteps = 5, SaveEvery = 30,
        });
        using (var trainer = RewardModelTrainer.Start(spec, Path.Combine(_directory.Path, "rm"), new CpuBackend(2)))
        {
            var metrics = new List<RewardModelStepMetrics>();
            trainer.Run(new InlineProgress<RewardModelStepMetrics>(metrics.Add), TestContext.Current.CancellationToken);
            Assert.Equal(Math.Log(2), metrics[0].Loss, 6); // a zero head scores every sequence 0
            Assert.True(metrics.TakeLast(10).Average(m => m.Accuracy) > 0.8, $"accuracy {metrics.TakeLast(10).Average(m => m.Accuracy)}");
            Assert.True(metrics.TakeLast(10).Average(m => m.Loss) < 0.5, $"loss {metrics.TakeLast(10).Average(m => m.Loss)}");
        }
        Assert.Equal("MistralForSequenceClassification",
            MistralCheckpoint.LoadConfig(Path.Combine(_directory.Path, "rm", "checkpoint-000060")).Architecture);
        using var resumed = RewardModelTrainer.Resume(Path.Combine(_directory.Path, "rm"), new CpuBackend(2), o => o with { Steps = 62 });
        Assert.Equal(60, resumed.Step);
        resumed.Run(cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(62, resumed.Step);
    }

    /// <summary>
    /// The pairwise loss leaves the level of the scores free; the centering term (TRL's center_rewards_coefficient) pulls each
    /// pair's score sum to zero, so that right answers score above zero and wrong ones below it, whatever the prompt. From a
    /// score head that starts off level (random weights plus an offset), only the centered run comes back to zero.
    /// </summary>
    [Fact]
    public void Centering_brings_the_scores_back_to_zero_and_still_ranks_the_pairs()
    {
        var data = Path.Combine(_directory.Path, "pairs.jsonl");
        PreferenceJsonl.Write(data, ArithmeticPairs(64, seed: 5));
        var start = Path.Combine(_directory.Path, "off-level");
        using (var backend = new CpuBackend(2))
        using (var model = MistralCheckpoint.LoadSequenceClassifier(_model, backend))
        {
            var random = new Random(3);
            backend.Upload(Enumerable.Range(0, TinyCheckpoint.Config.HiddenSize).Select(_ => (float)random.NextDouble() - 0.3f).ToArray(), model.Parameters["score.weight"]);
            CopyDirectory(_model, start);
            MistralCheckpoint.SaveParameters(start, model.Config, model.Parameters.Select(p => (p.Key, p.Value)), DType.F32, MistralCheckpoint.DefaultMaxShardBytes);
        }
        List<RewardModelStepMetrics> Train(double centering, string name)
        {
            var spec = new RunSpec<RewardModelOptions>(start, data, new RewardModelOptions
            {
                Steps = 60, BatchSize = 8, MaxLength = 32, LearningRate = 3e-3, WarmupSteps = 5, SaveEvery = 60, CenterRewardsCoefficient = centering,
            });
            using var trainer = RewardModelTrainer.Start(spec, Path.Combine(_directory.Path, name), new CpuBackend(2));
            var metrics = new List<RewardModelStepMetrics>();
            trainer.Run(new InlineProgress<RewardModelStepMetrics>(metrics.Add), TestContext.Current.CancellationToken);
            return metrics;
        }
        static double Level(IEnumerable<RewardModelStepMetrics> metrics) => Math.Abs(metrics.Average(m => (m.ChosenMean + m.RejectedMean) / 2));

        var free = Train(0, "free");
        var centered = Train(0.5, "centered");

        Assert.True(Level(free.Take(1)) > 1, $"the starting level {Level(free.Take(1))} is not off zero");
        Assert.True(Level(free.TakeLast(10)) > 0.2 * Level(free.Take(1)), $"level of the free run: {Level(free.Take(1))} → {Level(free.TakeLast(10))}");
        Assert.True(Level(centered.TakeLast(10)) < 0.05 * Level(free.TakeLast(10)),
            $"level of the centered run: {Level(centered.Take(1))} → {Level(centered.TakeLast(10))}; of the free run {Level(free.TakeLast(10))}");
        Assert.True(centered.TakeLast(10).Average(m => m.Accuracy) > 0.8, $"accuracy {centered.TakeLast(10).Average(m => m.Accuracy)}");
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    [Fact]
    public void A_negative_centering_coefficient_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new RewardModelOptions { CenterRewardsCoefficient = -0.1 }.Validate());
        Assert.Contains("center-rewards coefficient", error.Message);
    }

    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
