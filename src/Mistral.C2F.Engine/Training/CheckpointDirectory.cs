using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Training;

/// <summary>
/// The checkpoints of a training run: <c>checkpoint-NNNNNN/</c> directories and a <c>latest</c> file naming the
/// newest complete one. A checkpoint is written into a hidden temporary directory and renamed into place, and
/// <c>latest</c> is replaced atomically after that, so a crash at any moment leaves the last good checkpoint intact;
/// old checkpoints are renamed to hidden names before they are deleted (<see cref="StagedDirectory"/>).
/// </summary>
public sealed class CheckpointDirectory(string runDirectory, int keepLast = 2)
{
    private const string LatestFileName = "latest";
    private const string Prefix = "checkpoint-";

    public string RunDirectory { get; } = Path.GetFullPath(runDirectory);

    /// <summary>The newest complete checkpoint, or null when the run has none.</summary>
    public string? Latest
    {
        get
        {
            var pointer = Path.Combine(RunDirectory, LatestFileName);
            if (!File.Exists(pointer)) return null;
            var path = Path.Combine(RunDirectory, File.ReadAllText(pointer).Trim());
            return Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"{pointer} names {path}, which does not exist");
        }
    }

    /// <summary>Where checkpoint <paramref name="step"/> is (or will be) written.</summary>
    public string PathOf(int step) => Path.Combine(RunDirectory, $"{Prefix}{step:D6}");

    /// <summary>Writes checkpoint <paramref name="step"/> through <paramref name="write"/> (given the directory to fill) and makes it the latest.</summary>
    public string Save(int step, Action<string> write)
    {
        var final = PathOf(step);
        var name = Path.GetFileName(final);
        StagedDirectory.Write(final, replace: true, write);
        AtomicFile.WriteAllText(Path.Combine(RunDirectory, LatestFileName), name + "\n");
        Prune(name);
        return final;
    }

    private void Prune(string newest)
    {
        var checkpoints = Directory.EnumerateDirectories(RunDirectory, $"{Prefix}*").Select(Path.GetFileName).OfType<string>()
            .Where(n => n != newest).Order(StringComparer.Ordinal).ToList();
        foreach (var old in checkpoints.Take(Math.Max(0, checkpoints.Count - (keepLast - 1))))
            StagedDirectory.Remove(Path.Combine(RunDirectory, old));
        // What a kill left behind: the staging or the doomed copy of any checkpoint.
        foreach (var stale in Directory.EnumerateDirectories(RunDirectory, $".{Prefix}*")) Directory.Delete(stale, recursive: true);
    }
}
