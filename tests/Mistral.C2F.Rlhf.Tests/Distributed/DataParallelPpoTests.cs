using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Hostile;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 c2f train ppo</c>: each rank rolls out and scores half of every iteration's prompts and trains on half
/// of every mini-batch, and the run gives the single process's scores, KL, losses, length limit (1e-5 relative) and actor
/// weights (1e-5 of each tensor's norm), with ZeRO-1 too (and its gathered AdamW state); a 2-rank run resumes on 2 ranks
/// bit for bit; rollouts the ranks cannot share are refused.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class DataParallelPpoTests : IDisposable
{
    private const double Tolerance = 1e-5;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(180);
    private static readonly string[] Figures =
    [
        "objective/scores", "objective/kl", "objective/entropy", "loss/policy_avg", "loss/value_avg", "policy/approxkl_avg", "policy/clipfrac_avg",
        "response_length", "cm/length_limit", "cm/gate", "rm/scores", "objective/accuracy",
    ];

    private readonly TemporaryDirectory _directory = new();
    private readonly string _model, _prompts, _rewardModel;

    public DataParallelPpoTests()
    {
        _model = TinyCheckpoint.Write(_directory.File("base"));
        var pairs = _directory.File("pairs.jsonl");
        PreferenceJsonl.Write(pairs, Enumerable.Range(0, 8).Select(i => new PreferencePair($"What is {i}+1?", $"{i + 1}", $"{i + 2}")));
        var rewardModel = ConsoleProcess.Run(TimeLimit, 4L << 30, "train", "rm", "--model", _model, "--data", pairs,
            "--out", _directory.File("rm"), "--steps", "2", "--batch", "4", "--threads", "1");
        AssertSucceeded(rewardModel);
        _rewardModel = Path.Combine(_directory.File("rm"), "checkpoint-000002");
        _prompts = _directory.File("prompts.jsonl");
        SftJsonlWriter.Write(_prompts, Enumerable.Range(0, 16).Select(i => new PromptResponseExample($"What is {i}+1?", $"{i + 1}")));
    }

    public void Dispose() => _directory.Dispose();

    private ConsoleRun Train(int ranks, string run, int iterations = 3, int rollouts = 8, bool zero1 = false) => ConsoleProcess.Run(TimeLimit, 4L << 30,
        ranks > 1 ? MpiLauncher.Ranks(ranks) : null, null, ["train", "ppo", "--model", _model, "--prompts", _prompts, "--reward-model", _rewardModel,
        "--reward", "reward-model", "--out", _directory.File(run), "--iterations", $"{iterations}", "--rollouts", $"{rollouts}", "--length-limit", "4",
        "--max-length-limit", "12", "--actor-lr", "1e-3", "--critic-lr", "1e-3", "--save-every", "1", "--seed", "3", "--threads", "1",
        .. (zero1 ? new[] { "--zero1" } : [])]);

    private static void AssertSucceeded(ConsoleRun run) => Assert.True(run.ExitCode == 0 && run.KilledFor is null, run.ToString());

    /// <summary>Also with ZeRO-1 (<c>--zero1</c>): each rank keeps the AdamW moments of half of each model.</summary>
    [Fact]
    public void Two_ranks_train_the_actor_and_critic_as_one_process_does_with_and_without_ZeRO_1()
    {
        foreach (var run in new[] { Train(1, "one"), Train(2, "two"), Train(2, "zero1", zero1: true) }) AssertSucceeded(run);
        var one = Metrics("one");
        Assert.Equal(3, one.Count);
        foreach (var two in new[] { "two", "zero1" })
        {
            MetricsLines.AssertClose(one, Metrics(two), Figures, Tolerance, $"{two}, by iteration");
            CheckpointWeights.AssertClose(Weights("one", "actor"), Weights(two, "actor"), Tolerance, $"the actor of 2 ranks ({two}) differs from 1");
            CheckpointWeights.AssertClose(Weights("one", "critic"), Weights(two, "critic"), Tolerance, $"the critic of 2 ranks ({two}) differs from 1");
            CheckpointWeights.AssertClose(Optimizer("one", "actor"), Optimizer(two, "actor"), Tolerance, $"the actor's AdamW state of 2 ranks ({two}) differs from 1");
        }
        Assert.NotEqual(one[0]["objective/scores"]!.GetValue<double>(), one[2]["objective/scores"]!.GetValue<double>());
    }

    [Fact]
    public void A_two_rank_run_resumes_on_two_ranks_bit_for_bit()
    {
        AssertSucceeded(Train(2, "whole"));
        // As if the job had died after iteration 2's checkpoint (a shorter run would plan another learning-rate decay).
        CopyDirectory(_directory.File("whole"), _directory.File("resumed"));
        Directory.Delete(Path.Combine(_directory.File("resumed"), "checkpoint-000003"), recursive: true);
        File.WriteAllText(Path.Combine(_directory.File("resumed"), "latest"), "checkpoint-000002");
        AssertSucceeded(ConsoleProcess.Run(TimeLimit, 4L << 30, MpiLauncher.Ranks(2), null,
            "train", "ppo", "--out", _directory.File("resumed"), "--resume", "--iterations", "3", "--threads", "1"));
        Assert.Equal(File.ReadAllBytes(Weights("whole", "actor")), File.ReadAllBytes(Weights("resumed", "actor")));
        Assert.Equal(File.ReadAllBytes(Weights("whole", "critic")), File.ReadAllBytes(Weights("resumed", "critic")));
        static string WithoutTime(JsonNode m)
        {
            var copy = m.DeepClone().AsObject();
            copy.Remove("seconds");
            return copy.ToJsonString();
        }
        Assert.Equal(Metrics("whole").Select(WithoutTime), Metrics("resumed").Select(WithoutTime));
    }

    [Fact]
    public void Rollouts_the_ranks_cannot_share_are_refused()
    {
        var run = Train(2, "uneven", rollouts: 5);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("5 rollouts an iteration (--rollouts) in 1 mini-batches cannot be shared by 2 ranks", run.Error);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }

    private string Weights(string run, string model) => Path.Combine(_directory.File(run), "checkpoint-000003", model, "model.safetensors");

    private string Optimizer(string run, string model) => Path.Combine(_directory.File(run), "checkpoint-000003", model, TrainableModel.OptimizerFileName);

    private List<JsonNode> Metrics(string run) => MetricsLines.Read(_directory.File(run));
}
