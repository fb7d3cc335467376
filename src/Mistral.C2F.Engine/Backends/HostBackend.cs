using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends;

/// <summary>Memory management and data movement shared by the backends that compute in host memory.</summary>
public abstract class HostBackend : Backend
{
    /// <summary>The physical memory (or the container's limit) the runtime sees.</summary>
    public override long? MemoryBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    public override Tensor Allocate(Shape shape, DType dtype) =>
        new(this, new HostStorage(shape.ElementCount * dtype.SizeInBytes()), 0, shape, dtype, ownsStorage: true);

    public override void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F32: source.CopyTo(destination.HostSpan<float>()); break;
            case DType.F64: Convert(source, destination.HostSpan<double>(), x => x); break;
            case DType.BF16: BFloat16.FromSingle(source, destination.HostSpan<ushort>()); break;
            case DType.F16: Convert(source, destination.HostSpan<Half>(), x => (Half)x); break;
            default: throw new ArgumentException($"cannot upload floats into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<double> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F64: source.CopyTo(destination.HostSpan<double>()); break;
            case DType.F32: Convert(source, destination.HostSpan<float>(), x => (float)x); break;
            default: throw new ArgumentException($"cannot upload doubles into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        source.CopyTo(destination.HostSpan<int>());
    }

    public override void Download(Tensor source, Span<float> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F32: source.HostSpan<float>().CopyTo(destination); break;
            case DType.F64: Convert<double, float>(source.HostSpan<double>(), destination, x => (float)x); break;
            case DType.BF16: BFloat16.ToSingle(source.HostSpan<ushort>(), destination); break;
            case DType.F16: Convert<Half, float>(source.HostSpan<Half>(), destination, x => (float)x); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as floats");
        }
    }

    public override void Download(Tensor source, Span<double> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F64: source.HostSpan<double>().CopyTo(destination); break;
            case DType.F32: Convert<float, double>(source.HostSpan<float>(), destination, x => x); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as doubles");
        }
    }

    public override void Download(Tensor source, Span<int> destination)
    {
        RequireLength(destination.Length, source);
        source.HostSpan<int>().CopyTo(destination);
    }

    // Row copies move bytes, whatever the element type, so one implementation serves every host backend.
    protected override void GatherRowsCore(Tensor source, Tensor indices, Tensor destination)
    {
        var src = Bytes(source);
        var dst = Bytes(destination);
        int rowBytes = source.Shape.Columns * source.DType.SizeInBytes();
        var idx = indices.HostSpan<int>();
        long sourceRows = source.Shape.Rows;
        for (int i = 0; i < idx.Length; i++)
        {
            var row = dst.Slice(i * rowBytes, rowBytes);
            if (idx[i] == -1) row.Clear();
            else src.Slice(RowIndex(idx[i], sourceRows, nameof(GatherRows)) * rowBytes, rowBytes).CopyTo(row);
        }
    }

    protected override void ScatterRowsCore(Tensor source, Tensor indices, Tensor destination)
    {
        var src = Bytes(source);
        var dst = Bytes(destination);
        int rowBytes = source.Shape.Columns * source.DType.SizeInBytes();
        var idx = indices.HostSpan<int>();
        long destinationRows = destination.Shape.Rows;
        for (int i = 0; i < idx.Length; i++)
        {
            if (idx[i] == -1) continue;
            src.Slice(i * rowBytes, rowBytes).CopyTo(dst.Slice(RowIndex(idx[i], destinationRows, nameof(ScatterRows)) * rowBytes));
        }
    }

    internal static int RowIndex(int index, long rows, string op) =>
        index >= 0 && index < rows ? index : throw new IndexOutOfRangeException($"{op}: row index {index} outside 0..{rows - 1}");

    private static Span<byte> Bytes(Tensor t) => t.DType switch
    {
        DType.F32 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.HostSpan<float>()),
        DType.F64 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.HostSpan<double>()),
        _ => throw new ArgumentException($"row copies of {t.DType} tensors are not supported"),
    };

    private static void Convert<TFrom, TTo>(ReadOnlySpan<TFrom> from, Span<TTo> to, Func<TFrom, TTo> convert)
    {
        for (int i = 0; i < from.Length; i++) to[i] = convert(from[i]);
    }

    private static void RequireLength(int length, Tensor t)
    {
        if (length != t.ElementCount)
            throw new ArgumentException($"host buffer of {length} elements does not match tensor {t.Shape} ({t.ElementCount} elements)");
    }
}
