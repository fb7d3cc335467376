using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Rlhf.Tests.Hostile;

/// <summary>
/// <c>kill -9</c> at the worst moments, through the console as a child process: while a checkpoint is being written (a
/// hidden staging directory exists) and while the tiny preset writes its model. Every kill must leave the latest
/// checkpoint complete and nothing half-written in view, and the resumed run must end bit for bit where an uninterrupted
/// run ends (issue 16 §7 and the kill-during-save case).
/// </summary>
[Trait("Backend", "cpu")]
public sealed class InterruptedRunTests : IDisposable
{
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(120);
    private const long MemoryLimit = 1L << 30;

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"c2f-interrupted-{Guid.NewGuid():N}");

    public InterruptedRunTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly string[] Training = ["--steps", "24", "--save-every", "2", "--keep", "2", "--seq", "32", "--batch", "8"];

    /// <summary>Runs the console until <paramref name="moment"/> holds (polled every millisecond), then kills it; false when it finished first.</summary>
    private static bool KillWhen(Func<bool> moment, params string[] args)
    {
        StringBuilder output = new(), error = new();
        using var process = ConsoleProcess.Start(args, output, error);
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < TimeLimit)
        {
            if (moment())
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return true;
            }
            Thread.Sleep(1);
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"finished with exit {process.ExitCode} before the kill: {error}");
        return false;
    }

    private static string[] Staging(string run) =>
        Directory.Exists(run) ? Directory.EnumerateDirectories(run, ".checkpoint-*").ToArray() : [];

    /// <summary>A save under way: a staging directory that was not there before (an earlier kill may have left one behind).</summary>
    private static Func<bool> SaveStarts(string run)
    {
        var leftovers = Staging(run).ToHashSet();
        return () => Staging(run).Any(directory => !leftovers.Contains(directory));
    }

    /// <summary>After a kill: `latest` names a checkpoint that holds every file, and no checkpoint in view lacks one.</summary>
    private static void AssertCheckpointsComplete(string run)
    {
        var latest = new CheckpointDirectory(run).Latest;
        if (latest is null) return; // killed before the first save
        foreach (var checkpoint in Directory.EnumerateDirectories(run, "checkpoint-*"))
            foreach (var file in new[] { "config.json", "model.safetensors", "optimizer.safetensors", "tokenizer.model", "trainer_state.json" })
                Assert.True(File.Exists(Path.Combine(checkpoint, file)), $"{checkpoint} has no {file}");
    }

    private static double?[] Losses(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(line => JsonNode.Parse(line)!["loss"]?.GetValue<double>()).ToArray();

    [Fact]
    public void A_run_killed_during_three_saves_resumes_to_the_uninterrupted_run_bit_for_bit()
    {
        var straight = Path.Combine(_root, "straight");
        var result = ConsoleProcess.Run(TimeLimit, MemoryLimit, ["train", "sft", "--preset", "tiny", "--out", straight, .. Training]);
        Assert.True(result.ExitCode == 0, result.ToString());

        var killed = Path.Combine(_root, "killed");
        int kills = 0;
        bool finished = false;
        for (int attempt = 0; attempt < 8 && !finished; attempt++)
        {
            // Killed before its first checkpoint, a run starts again; after, it resumes.
            string[] args = new CheckpointDirectory(killed).Latest is null
                ? ["train", "sft", "--preset", "tiny", "--out", killed, .. Training] : ["train", "sft", "--out", killed, "--resume"];
            if (kills < 3 && KillWhen(SaveStarts(killed), args))
            {
                kills++;
                AssertCheckpointsComplete(killed);
                continue;
            }
            if (kills >= 3)
            {
                var rest = ConsoleProcess.Run(TimeLimit, MemoryLimit, args);
                Assert.True(rest.ExitCode == 0, rest.ToString());
            }
            finished = true;
        }
        Assert.Equal(3, kills);
        Assert.Equal(Losses(straight), Losses(killed));
        foreach (var file in new[] { "model.safetensors", "optimizer.safetensors" })
            Assert.True(File.ReadAllBytes(Path.Combine(straight, "checkpoint-000024", file)).AsSpan()
                .SequenceEqual(File.ReadAllBytes(Path.Combine(killed, "checkpoint-000024", file))), $"{file} differs from the uninterrupted run's");
        Assert.Empty(Directory.EnumerateDirectories(killed, ".*"));
    }

    /// <summary>§7: a kill while the tiny preset wrote its model once left base/ without a tokenizer, and the rerun failed.</summary>
    [Fact]
    public void A_preset_killed_while_writing_its_model_leaves_none_in_view_and_the_rerun_succeeds()
    {
        var run = Path.Combine(_root, "preset");
        bool staging() => Directory.Exists(run) && Directory.EnumerateDirectories(run, ".base.*").Any();
        Assert.True(KillWhen(staging, "train", "sft", "--preset", "tiny", "--out", run, "--steps", "2"), "the preset finished before it could be killed");
        Assert.False(Directory.Exists(Path.Combine(run, "base")), "a partial base/ is in view");
        var rerun = ConsoleProcess.Run(TimeLimit, MemoryLimit, "train", "sft", "--preset", "tiny", "--out", run, "--steps", "2");
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Empty(Directory.EnumerateDirectories(run, ".*"));
    }
}
