using System.IO.MemoryMappedFiles;
using System.Numerics.Tensors;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// One safetensors file, memory-mapped read-only: tensors are read one at a time, straight from the
/// page cache, so a file of any size costs address space, not memory. The header is validated on open.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    // Chunks keep every span under 2 GiB whatever the element size, and small enough (256 KiB of
    // float32) that the finite check reads the converted values while they are still in cache.
    private const int ChunkElements = 1 << 16;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _data;

    private SafeTensorsFile(FileStream stream, SafeTensorsHeader header)
    {
        Header = header;
        _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        _data = start + _view.PointerOffset + header.DataOffset;
    }

    public static SafeTensorsFile Open(string path)
    {
        var stream = SafeTensorsHeader.OpenRead(path);
        try
        {
            return new SafeTensorsFile(stream, SafeTensorsHeader.Read(stream, path));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public SafeTensorsHeader Header { get; }
    public string FilePath => Header.FilePath;
    public IReadOnlyList<SafeTensorInfo> Tensors => Header.Tensors;

    /// <summary>
    /// Converts a tensor stored as F32, BF16, F16 or F64 to float32; other dtypes are refused.
    /// With <paramref name="checkFinite"/>, a NaN or infinity fails with the tensor and the first bad index.
    /// </summary>
    public void ReadFloats(string name, Span<float> destination, bool checkFinite = false)
    {
        var entry = Header.Entry(name);
        var info = entry.Info;
        if (!SafeTensorsDTypes.ReadableAsFloat.Contains(info.DType))
            throw new CheckpointException(FilePath,
                $"tensor '{name}' has unsupported dtype {info.DType.FormatName()} for float32 reading (supported: {string.Join(", ", SafeTensorsDTypes.ReadableAsFloat.Select(d => d.FormatName()))})");
        RequireLength(destination.Length, info);
        int size = info.DType.ElementSize();
        byte* source = Data(entry);
        for (int done = 0; done < destination.Length; done += ChunkElements)
        {
            var chunk = destination.Slice(done, Math.Min(ChunkElements, destination.Length - done));
            StorageConversion.ToFloats(info.DType, new ReadOnlySpan<byte>(source + (long)done * size, chunk.Length * size), chunk);
            if (checkFinite) RequireFinite(chunk, done, info);
        }
    }

    public float[] ReadFloats(string name, bool checkFinite = false)
    {
        var values = new float[Header.Info(name).Shape.ElementCount];
        ReadFloats(name, values, checkFinite);
        return values;
    }

    /// <summary>The stored bytes as they are, for copies that keep the dtype (merges, re-sharding).</summary>
    public void ReadRawBytes(string name, Span<byte> destination)
    {
        var entry = Header.Entry(name);
        if (destination.Length != entry.Info.ByteLength)
            throw new ArgumentException($"tensor '{name}' holds {entry.Info.ByteLength} bytes, the destination {destination.Length}");
        new ReadOnlySpan<byte>(Data(entry), destination.Length).CopyTo(destination);
    }

    private byte* Data(SafeTensorEntry entry)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        return _data + entry.Begin;
    }

    private static void RequireLength(int length, SafeTensorInfo info)
    {
        if (length != info.Shape.ElementCount)
            throw new ArgumentException($"tensor '{info.Name}' {info.Shape} holds {info.Shape.ElementCount} elements, the destination {length}");
    }

    private void RequireFinite(ReadOnlySpan<float> chunk, int chunkStart, SafeTensorInfo info)
    {
        if (TensorPrimitives.IsFiniteAll(chunk)) return;
        int offset = 0;
        while (float.IsFinite(chunk[offset])) offset++;
        long index = chunkStart + offset;
        throw new CheckpointException(FilePath,
            $"tensor '{info.Name}' has a non-finite value ({chunk[offset]}) at element {index} {Coordinates(index, info.Shape)} of shape {info.Shape}");
    }

    private static string Coordinates(long flatIndex, Shape shape)
    {
        var coordinates = new long[shape.Rank];
        for (int axis = shape.Rank - 1; axis >= 0; axis--)
        {
            coordinates[axis] = flatIndex % shape[axis];
            flatIndex /= shape[axis];
        }
        return $"[{string.Join(", ", coordinates)}]";
    }

    public void Dispose()
    {
        if (_data == null) return;
        _data = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
