using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Tests.Hostile;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 c2f train rm</c>: each rank scores half the pairs of every batch, and the run gives the single process's
/// loss, accuracy, reward statistics and gradient norms (1e-6 relative) and its weights (1e-6 of each tensor's norm), with
/// ZeRO-1 too; a 2-rank run resumes on 2 ranks bit for bit; a batch the ranks cannot share is refused. A rank's share of a batch scores
/// its pairs as the whole batch does.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class DataParallelRewardModelTests : IDisposable
{
    private const double Tolerance = 1e-6;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(120);
    private static readonly string[] Figures = ["loss", "accuracy", "rewards/chosen", "rewards/rejected", "rewards/std", "grad_norm"];

    private readonly TemporaryDirectory _directory = new();
    private readonly string _model, _pairs;

    public DataParallelRewardModelTests()
    {
        _model = TinyCheckpoint.Write(_directory.File("base"));
        _pairs = _directory.File("pairs.jsonl");
        var random = new Random(7);
        PreferenceJsonl.Write(_pairs, Enumerable.Range(0, 32).Select(_ =>
        {
            int a = random.Next(10), b = random.Next(10);
            return new PreferencePair($"Add {a} and {b}.", $"{a + b}", $"{a + b + random.Next(1, 5)}");
        }));
    }

    public void Dispose() => _directory.Dispose();

    private ConsoleRun Train(int ranks, string run, int batch = 4, int steps = 3, bool zero1 = false) => ConsoleProcess.Run(TimeLimit, 4L << 30,
        ranks > 1 ? MpiLauncher.Ranks(ranks) : null, null, ["train", "rm", "--model", _model, "--data", _pairs, "--out", _directory.File(run),
        "--steps", $"{steps}", "--batch", $"{batch}", "--max-length", "32", "--lr", "1e-3", "--save-every", "1", "--threads", "1",
        .. (zero1 ? new[] { "--zero1" } : [])]);

    private static void AssertSucceeded(ConsoleRun run) => Assert.True(run.ExitCode == 0 && run.KilledFor is null, run.ToString());

    [Fact]
    public void Two_ranks_train_the_reward_model_as_one_process_does_with_and_without_ZeRO_1()
    {
        foreach (var run in new[] { Train(1, "one"), Train(2, "two"), Train(2, "zero1", zero1: true) }) AssertSucceeded(run);
        var one = Metrics("one");
        Assert.Equal(3, one.Count);
        foreach (var two in new[] { "two", "zero1" })
        {
            MetricsLines.AssertClose(one, Metrics(two), Figures, Tolerance, $"{two}, by step");
            CheckpointWeights.AssertClose(Weights("one"), Weights(two), Tolerance, $"2 ranks ({two}) differ from 1");
        }
    }

    private string Weights(string run) => Path.Combine(_directory.File(run), "checkpoint-000003", "model.safetensors");

    [Fact]
    public void A_two_rank_run_resumes_on_two_ranks_bit_for_bit()
    {
        AssertSucceeded(Train(2, "whole"));
        AssertSucceeded(Train(2, "resumed", steps: 2));
        AssertSucceeded(ConsoleProcess.Run(TimeLimit, 4L << 30, MpiLauncher.Ranks(2), null,
            "train", "rm", "--out", _directory.File("resumed"), "--resume", "--steps", "3", "--threads", "1"));
        Assert.Equal(File.ReadAllBytes(Weights("whole")), File.ReadAllBytes(Weights("resumed")));
        Assert.Equal(Metrics("whole").Select(m => m.ToJsonString()), Metrics("resumed").Select(m => m.ToJsonString()));
    }

    [Fact]
    public void A_batch_of_pairs_the_ranks_cannot_share_is_refused()
    {
        var run = Train(2, "uneven", batch: 3);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("a batch of 3 pairs (--batch) cannot be shared by 2 ranks", run.Error);
    }

    [Fact]
    public void A_ranks_share_holds_its_pairs_rows_as_the_whole_batch_does()
    {
        var tokenizer = Engine.Tokenization.MistralTokenizer.Load(_model);
        var batch = new PreferenceLoader(PreferenceJsonl.Read(_pairs), tokenizer, 5, 32, DataPosition.Start(0)).NextBatch();
        var share = batch.Share(rank: 1, ranks: 2);
        Assert.Equal(2, share.Pairs);  // pairs 1 and 3 of 5
        Assert.Equal(batch.Length, share.Length);
        int[] rows = [1, 3, 5 + 1, 5 + 3];
        for (int k = 0; k < rows.Length; k++)
        {
            Assert.Equal(batch.Tokens.Skip(rows[k] * batch.Length).Take(batch.Length), share.Tokens.Skip(k * share.Length).Take(share.Length));
            Assert.Equal(batch.Positions.Skip(rows[k] * batch.Length).Take(batch.Length), share.Positions.Skip(k * share.Length).Take(share.Length));
            Assert.Equal(batch.LastTokens[rows[k]] - rows[k] * batch.Length, share.LastTokens[k] - k * share.Length);
        }
        Assert.Equal([batch.Margins[1], batch.Margins[3]], share.Margins);
        Assert.Same(batch, batch.Share(0, 1));
    }

    private List<JsonNode> Metrics(string run) => MetricsLines.Read(_directory.File(run));
}
