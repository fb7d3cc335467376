using System.Diagnostics;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Tests.Hostile;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>
/// <c>mpirun -np 2 c2f train sft</c> on this machine's Open MPI (CPU backend, tiny preset, 4 micro-batches a step): the
/// two ranks give the single process's losses and gradient norms (1e-6 relative) and its weights (1e-6 of each tensor's
/// norm, measured at most 4.3e-8: the ranks sum their halves of the batch in another order); a 2-rank run repeats bit
/// for bit and resumes bit for bit; with ZeRO-1 the same, its AdamW state gathered whole into the checkpoint; rank 1 killed mid-run ends the job within 60 s with the rank named and the last
/// checkpoint intact, and so does rank 1 stopped (SIGSTOP: a hang), through the collective timeout (10 s here, so a
/// loaded machine cannot trip it first); Ctrl-C on rank 1 alone stops every rank and rank 0 saves the step reached;
/// commands that do not run data-parallel, and a batch the ranks cannot share, are refused.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class DataParallelSftTests : IDisposable
{
    private const double LossTolerance = 1e-6, WeightTolerance = 1e-6;
    /// <summary>AdamW moments of 2 ranks against 1 process: measured 8.7e-7 (a k_proj's first moment: the ranks sum the gradient in another order).</summary>
    private const double StateTolerance = 1e-5;
    private const long MemoryLimit = 4L << 30;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(120);

    /// <summary>The tiny preset's SFT in four micro-batches a step (two per rank on two ranks).</summary>
    private static string[] Training(int steps = 4, int batch = 4, int saveEvery = 4) =>
        ["--preset", "tiny", "--steps", $"{steps}", "--batch", $"{batch}", "--micro-batch", "1", "--seq", "32", "--save-every", $"{saveEvery}", "--threads", "1"];

    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private ConsoleRun Train(int ranks, string run, string[] training) =>
        ConsoleProcess.Run(TimeLimit, MemoryLimit, ranks > 1 ? MpiLauncher.Ranks(ranks) : null, null, ["train", "sft", "--out", _directory.File(run), .. training]);

    private static void AssertSucceeded(ConsoleRun run) => Assert.True(run.ExitCode == 0 && run.KilledFor is null, run.ToString());

    [Fact]
    public void Two_ranks_train_as_one_process_does_and_repeat_bit_for_bit()
    {
        ConsoleRun[] runs = [Train(1, "one", Training()), Train(2, "two", Training()), Train(2, "two-again", Training())];
        foreach (var run in runs) AssertSucceeded(run);

        AssertSameTraining("one", "two");

        Assert.Equal(File.ReadAllBytes(Weights("two")), File.ReadAllBytes(Weights("two-again")));
        // The tiny data has examples longer than 32 tokens: one warning says so, from rank 0 only.
        Assert.Single(runs[1].ErrorLines, line => line.StartsWith("c2f: warning:", StringComparison.Ordinal) && line.Contains("dropped"));
        Assert.Equal(Metrics("two"), Metrics("two-again"));
    }

    [Fact]
    public void A_two_rank_run_resumes_on_two_ranks_bit_for_bit()
    {
        AssertSucceeded(Train(2, "whole", Training(saveEvery: 2)));
        AssertSucceeded(Train(2, "resumed", Training(steps: 2, saveEvery: 2)));
        AssertSucceeded(ConsoleProcess.Run(TimeLimit, MemoryLimit, MpiLauncher.Ranks(2), null,
            "train", "sft", "--out", _directory.File("resumed"), "--resume", "--steps", "4", "--threads", "1"));
        Assert.Equal(File.ReadAllBytes(Weights("whole")), File.ReadAllBytes(Weights("resumed")));
        Assert.Equal(Metrics("whole"), Metrics("resumed"));
    }

    /// <summary>
    /// ZeRO-1 (<c>--zero1</c>): each rank keeps the AdamW moments of half the parameters, yet the run gives the single
    /// process's losses, weights and (gathered into the checkpoint) optimizer state; it resumes on 2 ranks bit for bit, and
    /// its checkpoint resumes without ZeRO-1 too.
    /// </summary>
    [Fact]
    public void Two_ranks_with_ZeRO_1_train_as_one_process_does_save_the_whole_state_and_resume_either_way()
    {
        string[] zero1 = [.. Training(saveEvery: 2), "--zero1"];
        ConsoleRun[] runs = [Train(1, "one", Training(saveEvery: 2)), Train(2, "zero1", zero1)];
        foreach (var run in runs) AssertSucceeded(run);
        Assert.Contains("ZeRO-1: AdamW moments of 467,520 of 935,040 parameter elements on rank 0", runs[1].Output);
        AssertSameTraining("one", "zero1");
        CheckpointWeights.AssertClose(Optimizer("one"), Optimizer("zero1"), StateTolerance, "the gathered AdamW state of 2 ranks differs from 1");

        foreach (var (run, flags) in new[] { ("resumed-zero1", new[] { "--zero1" }), ("resumed-plain", Array.Empty<string>()) })
        {
            AssertSucceeded(Train(2, run, [.. Training(steps: 2, saveEvery: 2), "--zero1"]));
            AssertSucceeded(ConsoleProcess.Run(TimeLimit, MemoryLimit, MpiLauncher.Ranks(2), null,
                ["train", "sft", "--out", _directory.File(run), "--resume", "--steps", "4", "--threads", "1", .. flags]));
        }
        Assert.Equal(File.ReadAllBytes(Weights("zero1")), File.ReadAllBytes(Weights("resumed-zero1")));
        Assert.Equal(Metrics("zero1"), Metrics("resumed-zero1"));
        AssertSameTraining("zero1", "resumed-plain");
    }

    [Fact]
    public void A_killed_rank_ends_the_job_naming_it_and_the_last_checkpoint_stays_intact()
    {
        var run = _directory.File("killed");
        var result = RunUntilRankOneGets(PosixSignal.Kill, run, MpiLauncher.Ranks(2));
        Assert.Contains("rank 1", result.Output + result.Error);
        AssertLatestCheckpointIntact(run);
    }

    [Fact]
    public void A_stopped_rank_ends_the_job_within_the_collective_timeout_and_the_last_checkpoint_stays_intact()
    {
        var run = _directory.File("stopped");
        var result = RunUntilRankOneGets(PosixSignal.Stop, run, [.. MpiLauncher.Ranks(2), "-x", "C2F_COLLECTIVE_TIMEOUT=10"]);
        // The ranks share a machine, so the waiting rank reads rank 1's count of collectives and names it.
        Assert.Matches(@"rank 0: MPI_Allreduce waited 10 s for rank 1 \(stopped at collective \d+\), which stopped responding before collective \d+", result.Error);
        AssertLatestCheckpointIntact(run);
    }

    /// <summary>
    /// Ctrl-C reaching rank 1 alone (SIGINT to its process): every rank stops before the same step, rank 0 saves the step
    /// they reached, and the others wait for that save before they exit (mpirun would kill rank 0 mid-save otherwise).
    /// </summary>
    [Fact]
    public void A_rank_interrupted_alone_stops_every_rank_and_rank_0_saves_the_step_they_reached()
    {
        var run = _directory.File("interrupted");
        RunUntilRankOneGets(PosixSignal.Interrupt, run, MpiLauncher.Ranks(2), saveEvery: 5);
        var lastStep = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(line => JsonNode.Parse(line)!["step"]!.GetValue<int>()).Last();
        Assert.Equal($"checkpoint-{lastStep:D6}", File.ReadAllText(Path.Combine(run, "latest")).Trim());
        AssertLatestCheckpointIntact(run);
    }

    /// <summary>A long 2-rank run whose rank 1 gets <paramref name="signal"/> once the first checkpoint exists; the job must then end by itself within 60 s.</summary>
    private static ConsoleRun RunUntilRankOneGets(int signal, string run, string[] launcher, int saveEvery = 2)
    {
        bool done = false;
        var result = ConsoleProcess.Run(TimeLimit, MemoryLimit, launcher, elapsed =>
        {
            if (done || !File.Exists(Path.Combine(run, "latest"))) return;
            done = Signal(signal, rank: 1, run);
        }, ["train", "sft", "--out", run, .. Training(steps: 2000, saveEvery: saveEvery)]);
        Signal(PosixSignal.Kill, rank: 1, run);  // a stopped rank the job left behind
        TestContext.Current.TestOutputHelper?.WriteLine(result.ToString());
        Assert.True(done, $"rank 1 was not found running: {result}");
        Assert.True(result.KilledFor is null && result.Elapsed < TimeSpan.FromSeconds(60), result.ToString());
        Assert.NotEqual(0, result.ExitCode);
        return result;
    }

    private static void AssertLatestCheckpointIntact(string run)
    {
        var latest = Path.Combine(run, File.ReadAllText(Path.Combine(run, "latest")).Trim());
        using var weights = SafeTensorsFile.Open(Path.Combine(latest, "model.safetensors"));
        foreach (var tensor in weights.Tensors) weights.ReadFloats(tensor.Name, checkFinite: true);
    }

    [Fact]
    public void Commands_that_do_not_run_data_parallel_and_a_batch_the_ranks_cannot_share_are_refused()
    {
        var eval = ConsoleProcess.Run(TimeLimit, MemoryLimit, MpiLauncher.Ranks(2), null, "eval", "--model", "x", "--prompts", "y");
        Assert.NotEqual(0, eval.ExitCode);
        Assert.Contains("'c2f eval' does not run data-parallel", eval.Error);

        var uneven = Train(2, "uneven", Training(batch: 3));
        Assert.NotEqual(0, uneven.ExitCode);
        Assert.Contains("cannot be shared by 2 ranks", uneven.Error);
    }

    /// <summary>The runs' losses and gradient norms within 1e-6 relative, their final weights within 1e-6 of each tensor's norm.</summary>
    private void AssertSameTraining(string expected, string actual)
    {
        var (one, two) = (Metrics(expected), Metrics(actual));
        Assert.Equal(4, two.Count);
        for (int i = 0; i < one.Count; i++)
        {
            Assert.True(Math.Abs(two[i].Loss - one[i].Loss) <= LossTolerance * one[i].Loss, $"{actual}, step {i + 1}: loss {two[i].Loss} vs {one[i].Loss}");
            Assert.True(Math.Abs(two[i].GradNorm - one[i].GradNorm) <= LossTolerance * one[i].GradNorm,
                $"{actual}, step {i + 1}: gradient norm {two[i].GradNorm} vs {one[i].GradNorm}");
        }
        CheckpointWeights.AssertClose(Weights(expected), Weights(actual), WeightTolerance, $"{actual} differs from {expected}");
    }

    private string Optimizer(string run) => Path.Combine(_directory.File(run), "checkpoint-000004", TrainableModel.OptimizerFileName);

    private string Weights(string run) => Path.Combine(_directory.File(run), "checkpoint-000004", "model.safetensors");

    private List<(double Loss, double GradNorm)> Metrics(string run) =>
        File.ReadLines(Path.Combine(_directory.File(run), "metrics.jsonl")).Select(line => JsonNode.Parse(line)!)
            .Select(json => (json["loss"]!.GetValue<double>(), json["grad_norm"]!.GetValue<double>())).ToList();

    /// <summary>A signal to the rank's process of this run (found by its Open MPI rank and its run directory); false when none runs.</summary>
    private static bool Signal(int signal, int rank, string runDirectory)
    {
        foreach (var process in Process.GetProcessesByName("dotnet"))
        {
            try
            {
                var environment = File.ReadAllText($"/proc/{process.Id}/environ").Split('\0');
                var commandLine = File.ReadAllText($"/proc/{process.Id}/cmdline");
                if (!environment.Contains($"OMPI_COMM_WORLD_RANK={rank}") || !commandLine.Contains(runDirectory, StringComparison.Ordinal)) continue;
                return PosixSignal.Send(process.Id, signal);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The process ended or is not ours to read.
            }
        }
        return false;
    }
}
