namespace Mistral.C2F.Engine.IO;

/// <summary>
/// A file written under a temporary sibling name that replaces its target only on <see cref="Commit"/>;
/// disposed uncommitted, it deletes the temporary and leaves any previous target untouched.
/// </summary>
public sealed class PendingFile : IDisposable
{
    private FileStream? _stream;
    private bool _committed;

    public PendingFile(string targetPath)
    {
        TargetPath = Path.GetFullPath(targetPath);
        var directory = Path.GetDirectoryName(TargetPath)!;
        Directory.CreateDirectory(directory);
        // Same directory as the target, so the final rename never crosses file systems.
        TemporaryPath = Path.Combine(directory, $".{Path.GetFileName(TargetPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(TemporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public string TargetPath { get; }
    public string TemporaryPath { get; }

    public FileStream Stream => _stream ?? throw new InvalidOperationException($"{TargetPath}: the pending file is already closed");

    /// <summary>
    /// Flushes to disk and closes the temporary without renaming it, so that several files can be
    /// finished before any of them replaces its target.
    /// </summary>
    public void Close()
    {
        if (_stream is null) return;
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _stream = null;
    }

    public void Commit()
    {
        Close();
        File.Move(TemporaryPath, TargetPath, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        try
        {
            _stream?.Dispose();
        }
        catch (IOException)
        {
            // The file is being discarded: a buffer that cannot be flushed (disk full) does not matter.
        }
        _stream = null;
        File.Delete(TemporaryPath);
    }
}
