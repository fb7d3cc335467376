using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Tensors;

/// <summary>
/// A contiguous, row-major, typed window onto a backend's storage. Views made by <see cref="Reshape"/>
/// and <see cref="SliceRows"/> share the storage and do not own it.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly bool _ownsStorage;

    internal Tensor(Backend backend, TensorStorage storage, long elementOffset, Shape shape, DType dtype, bool ownsStorage)
    {
        if ((elementOffset + shape.ElementCount) * dtype.SizeInBytes() > storage.ByteLength)
            throw new ArgumentException($"tensor {shape} of {dtype} at offset {elementOffset} does not fit its storage of {storage.ByteLength} bytes");
        Backend = backend;
        Storage = storage;
        ElementOffset = elementOffset;
        Shape = shape;
        DType = dtype;
        _ownsStorage = ownsStorage;
    }

    public Backend Backend { get; }
    public TensorStorage Storage { get; }
    public long ElementOffset { get; }
    public Shape Shape { get; }
    public DType DType { get; }
    public long ElementCount => Shape.ElementCount;

    /// <summary>The same elements under another shape with the same element count.</summary>
    public Tensor Reshape(params int[] dims)
    {
        var shape = new Shape(dims);
        if (shape.ElementCount != ElementCount)
            throw new ArgumentException($"cannot reshape {Shape} ({ElementCount} elements) to {shape} ({shape.ElementCount} elements)");
        return new Tensor(Backend, Storage, ElementOffset, shape, DType, ownsStorage: false);
    }

    /// <summary>Rows <paramref name="start"/> .. start+count-1 of the first dimension.</summary>
    public Tensor SliceRows(int start, int count)
    {
        if (Shape.Rank == 0) throw new InvalidOperationException("cannot slice a scalar tensor");
        if (start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"rows {start}..{start + count} outside a tensor of shape {Shape}");
        var dims = Shape.ToArray();
        long rowElements = dims[0] == 0 ? 0 : ElementCount / dims[0];
        dims[0] = count;
        return new Tensor(Backend, Storage, ElementOffset + start * rowElements, new Shape(dims), DType, ownsStorage: false);
    }

    /// <summary>The elements as a host span. Only for host backends; <typeparamref name="T"/> must match the dtype.</summary>
    public Span<T> HostSpan<T>() where T : unmanaged
    {
        RequireElementType<T>();
        if (Storage is not HostStorage host)
            throw new InvalidOperationException($"tensor {Shape} lives on backend '{Backend.Name}', not in host memory");
        return host.AsSpan<T>(ElementOffset, ElementCount);
    }

    /// <summary>The address of the first element. Only for host backends.</summary>
    public unsafe T* HostPointer<T>() where T : unmanaged
    {
        RequireElementType<T>();
        if (Storage is not HostStorage host)
            throw new InvalidOperationException($"tensor {Shape} lives on backend '{Backend.Name}', not in host memory");
        return host.Pointer<T>(ElementOffset);
    }

    private void RequireElementType<T>() where T : unmanaged
    {
        var expected = typeof(T) == typeof(float) ? DType.F32
            : typeof(T) == typeof(double) ? DType.F64
            : typeof(T) == typeof(int) ? DType.I32
            : typeof(T) == typeof(Half) ? DType.F16
            : typeof(T) == typeof(ushort) ? DType.BF16
            : throw new NotSupportedException($"no dtype for element type {typeof(T).Name}");
        if (expected != DType)
            throw new InvalidOperationException($"tensor {Shape} holds {DType}, not {expected}");
    }

    public void Dispose()
    {
        if (_ownsStorage) Storage.Dispose();
    }

    public override string ToString() => $"Tensor{Shape} {DType} on {Backend.Name}";
}
