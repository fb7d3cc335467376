namespace Mistral.C2F.Engine.IO;

/// <summary>
/// Fills a directory all at once: everything is written into a hidden sibling, which is renamed to the target only
/// when complete, so a failure or a kill leaves no partial output (at most a hidden <c>.NAME.*.tmp</c>, removed by the
/// next write of the same target). Removal renames first too, so a kill never leaves a half-deleted directory in view.
/// </summary>
public static class StagedDirectory
{
    /// <summary>Checks up front that <paramref name="target"/> is absent or empty, unless it may be replaced.</summary>
    public static void RequireWritable(string target, bool replace)
    {
        if (!replace && Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new IOException($"{target}: the output directory is not empty; choose another or allow replacing it");
    }

    /// <summary>Runs <paramref name="write"/> on the staging directory, then moves it to <paramref name="target"/>.</summary>
    public static T Write<T>(string target, bool replace, Func<string, T> write)
    {
        target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        RequireWritable(target, replace);
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"{target}: a file-system root cannot be the output directory");
        Directory.CreateDirectory(parent);
        foreach (var stale in Directory.EnumerateDirectories(parent, $".{Path.GetFileName(target)}.*")) Directory.Delete(stale, recursive: true);
        // A sibling, so that the final rename never crosses file systems.
        var staging = Hidden(target, "tmp");
        Directory.CreateDirectory(staging);
        try
        {
            var result = write(staging);
            if (Directory.Exists(target)) Remove(target);
            Directory.Move(staging, target);
            return result;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    public static void Write(string target, bool replace, Action<string> write) =>
        Write(target, replace, staging =>
        {
            write(staging);
            return true;
        });

    /// <summary>Deletes <paramref name="directory"/> after renaming it to a hidden sibling, so it is never seen half-deleted.</summary>
    public static void Remove(string directory)
    {
        var doomed = Hidden(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)), "deleting");
        Directory.Move(directory, doomed);
        Directory.Delete(doomed, recursive: true);
    }

    private static string Hidden(string target, string suffix) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.{suffix}");
}
