namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// Fills a directory all at once: everything is written into a hidden sibling, which is renamed to the target only
/// when complete, so a failure or a kill leaves no partial output (at most a hidden <c>.NAME.*.tmp</c> after a kill).
/// </summary>
internal static class StagedDirectory
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
        RequireWritable(target, replace);
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"{target}: a file-system root cannot be the output directory");
        Directory.CreateDirectory(parent);
        // A sibling, so that the final rename never crosses file systems.
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            var result = write(staging);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
            return result;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }
}
