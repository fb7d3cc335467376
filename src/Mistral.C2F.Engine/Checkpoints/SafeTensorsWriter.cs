using System.Buffers.Binary;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// Writes one safetensors file in bounded memory: the tensors are declared up front (the header comes
/// first in the file), then their data arrives one tensor at a time, in any order. Nothing replaces
/// the target until <see cref="Commit"/>, which requires every tensor; disposing without it discards the file.
/// </summary>
/// <remarks>
/// Tensors are packed without gaps (the format's reference reader rejects gaps), largest element size
/// first and otherwise in the declared order, so every tensor starts aligned to its element size; the
/// header is padded with spaces to make the data region start 8-byte aligned. Metadata is {"format": "pt"}.
/// </remarks>
public sealed class SafeTensorsWriter : IDisposable
{
    // 1 MiB of float32 per conversion chunk: large enough for fast writes, small enough to not matter.
    private const int ChunkElements = 1 << 18;

    private static readonly IReadOnlyDictionary<string, string> Metadata = new Dictionary<string, string> { ["format"] = "pt" };

    private readonly PendingFile _file;
    private readonly Dictionary<string, SafeTensorEntry> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unwritten = new(StringComparer.Ordinal);
    private readonly long _dataOffset;
    private byte[]? _chunk;

    public SafeTensorsWriter(string path, IEnumerable<SafeTensorInfo> tensors)
    {
        var declared = tensors.ToArray();
        long offset = 0;
        var layout = new List<SafeTensorEntry>(declared.Length);
        foreach (var info in declared.OrderByDescending(info => info.DType.ElementSize()))
        {
            if (info.Name == SafeTensorsHeaderJson.MetadataKey)
                throw new ArgumentException($"{path}: '{info.Name}' is reserved for metadata and cannot name a tensor");
            var entry = new SafeTensorEntry(info, offset, offset + info.ByteLength);
            if (!_entries.TryAdd(info.Name, entry)) throw new ArgumentException($"{path}: tensor '{info.Name}' is declared twice");
            layout.Add(entry);
            offset = entry.End;
        }
        Tensors = declared;
        _unwritten.UnionWith(_entries.Keys);

        var header = SafeTensorsHeaderJson.Write(layout, Metadata);
        _dataOffset = 8 + header.Length;
        _file = new PendingFile(path);
        try
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            _file.Stream.Write(length);
            _file.Stream.Write(header);
            _file.Stream.SetLength(_dataOffset + offset);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public string TargetPath => _file.TargetPath;
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }
    public bool IsComplete => _unwritten.Count == 0;

    /// <summary>Stores float32 values as the tensor's declared dtype (F32, BF16 or F16), rounding to nearest even.</summary>
    public void Write(string name, ReadOnlySpan<float> values)
    {
        var entry = Unwritten(name);
        var dtype = entry.Info.DType;
        if (!SafeTensorsDTypes.WritableFromFloat.Contains(dtype))
            throw new ArgumentException($"{TargetPath}: tensor '{name}' is declared {dtype.FormatName()}, which cannot be written from float32 values");
        if (values.Length != entry.Info.Shape.ElementCount)
            throw new ArgumentException($"{TargetPath}: tensor '{name}' {entry.Info.Shape} needs {entry.Info.Shape.ElementCount} values, got {values.Length}");
        var stream = SeekTo(entry);
        int size = dtype.ElementSize();
        _chunk ??= new byte[ChunkElements * sizeof(float)];
        for (int done = 0; done < values.Length; done += ChunkElements)
        {
            int count = Math.Min(ChunkElements, values.Length - done);
            var bytes = _chunk.AsSpan(0, count * size);
            StorageConversion.FromFloats(dtype, values.Slice(done, count), bytes);
            stream.Write(bytes);
        }
        _unwritten.Remove(name);
    }

    /// <summary>Stores bytes already in the tensor's declared dtype, e.g. copied from another checkpoint.</summary>
    public void WriteRaw(string name, ReadOnlySpan<byte> bytes)
    {
        var entry = Unwritten(name);
        if (bytes.Length != entry.Info.ByteLength)
            throw new ArgumentException($"{TargetPath}: tensor '{name}' needs {entry.Info.ByteLength} bytes, got {bytes.Length}");
        SeekTo(entry).Write(bytes);
        _unwritten.Remove(name);
    }

    /// <summary>Checks that every tensor was written, flushes to disk and closes, still under the temporary name.</summary>
    internal void Finish()
    {
        if (!IsComplete)
            throw new InvalidOperationException($"{TargetPath}: {_unwritten.Count} tensor(s) never written: {Lists.Abbreviate(_unwritten)}");
        _file.Close();
    }

    /// <summary>Finishes the file and renames it over the target.</summary>
    public void Commit()
    {
        Finish();
        _file.Commit();
    }

    public void Dispose() => _file.Dispose();

    private SafeTensorEntry Unwritten(string name)
    {
        if (!_entries.TryGetValue(name, out var entry)) throw new ArgumentException($"{TargetPath}: tensor '{name}' was not declared");
        if (!_unwritten.Contains(name)) throw new InvalidOperationException($"{TargetPath}: tensor '{name}' was already written");
        return entry;
    }

    private FileStream SeekTo(SafeTensorEntry entry)
    {
        var stream = _file.Stream;
        stream.Position = _dataOffset + entry.Begin;
        return stream;
    }
}
