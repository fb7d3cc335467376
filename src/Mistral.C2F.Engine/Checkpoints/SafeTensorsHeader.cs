using Mistral.C2F.Engine.IO;
using System.Buffers.Binary;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// The validated header of a safetensors file: an 8-byte little-endian length N, N bytes of JSON, then
/// the data region. The tensors must tile the data region exactly (start at 0, no gaps, no overlaps,
/// end at the end of the file), which is what the reference implementation accepts.
/// </summary>
public sealed class SafeTensorsHeader
{
    /// <summary>The reference implementation's limit; a larger length means a corrupt or foreign file.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly Dictionary<string, SafeTensorEntry> _entries;

    private SafeTensorsHeader(string filePath, long dataOffset, long dataLength, List<SafeTensorEntry> entriesInFileOrder,
        Dictionary<string, string> metadata)
    {
        FilePath = filePath;
        DataOffset = dataOffset;
        DataLength = dataLength;
        Tensors = entriesInFileOrder.Select(entry => entry.Info).ToArray();
        Metadata = metadata;
        _entries = entriesInFileOrder.ToDictionary(entry => entry.Info.Name, StringComparer.Ordinal);
    }

    public string FilePath { get; }

    /// <summary>Where the data region starts in the file: 8 + N.</summary>
    public long DataOffset { get; }
    public long DataLength { get; }

    /// <summary>The tensors in the order their bytes appear in the file.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The optional <c>__metadata__</c> map; empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public SafeTensorInfo Info(string name) => Entry(name).Info;

    internal SafeTensorEntry Entry(string name) =>
        _entries.TryGetValue(name, out var entry) ? entry : throw new CheckpointException(FilePath, $"no tensor named '{name}'");

    /// <summary>Reads and validates the header only; the data is not touched.</summary>
    public static SafeTensorsHeader Read(string path)
    {
        using var stream = OpenRead(path);
        return Read(stream, path);
    }

    internal static FileStream OpenRead(string path)
    {
        try
        {
            ModelFiles.RequireRegularFile(path);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointException(path, "file not found", e);
        }
    }

    internal static SafeTensorsHeader Read(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new CheckpointException(path, $"the file is {fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new CheckpointException(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit (corrupt, or not a safetensors file)");
        if ((long)headerLength > fileLength - 8)
            throw new CheckpointException(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes; truncated?)");

        var json = new byte[headerLength];
        stream.ReadExactly(json);
        var (entries, metadata) = SafeTensorsHeaderJson.Parse(json, path);
        long dataOffset = 8 + (long)headerLength, dataLength = fileLength - dataOffset;
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        RequireExactTiling(entries, dataLength, path);
        return new SafeTensorsHeader(path, dataOffset, dataLength, entries, metadata);
    }

    private static void RequireExactTiling(List<SafeTensorEntry> sortedEntries, long dataLength, string path)
    {
        foreach (var entry in sortedEntries)
        {
            if (entry.End > dataLength)
                throw new CheckpointException(path,
                    $"tensor '{entry.Info.Name}': data_offsets [{entry.Begin}, {entry.End}] lie outside the data region of {dataLength} bytes (truncated?)");
        }
        long covered = 0;
        string previous = "";
        foreach (var entry in sortedEntries)
        {
            if (entry.Begin < covered)
                throw new CheckpointException(path,
                    $"tensor '{entry.Info.Name}': data_offsets [{entry.Begin}, {entry.End}] overlap tensor '{previous}', which ends at {covered}");
            if (entry.Begin > covered)
                throw new CheckpointException(path,
                    $"bytes {covered}..{entry.Begin} of the data region, before tensor '{entry.Info.Name}', belong to no tensor");
            covered = entry.End;
            previous = entry.Info.Name;
        }
        if (covered != dataLength)
            throw new CheckpointException(path, $"bytes {covered}..{dataLength} at the end of the data region belong to no tensor");
    }
}
