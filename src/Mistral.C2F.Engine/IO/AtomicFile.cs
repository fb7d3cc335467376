namespace Mistral.C2F.Engine.IO;

/// <summary>Writes that never leave a half-written file behind: write a temporary sibling, flush, rename.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<FileStream> write)
    {
        using var pending = new PendingFile(path);
        write(pending.Stream);
        pending.Commit();
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });
}
