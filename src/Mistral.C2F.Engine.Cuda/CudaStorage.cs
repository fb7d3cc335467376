using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// Device memory of one <see cref="IKernelDevice"/>; tensors view it at their element offset. On the bf16 paths it
/// also keeps the bf16 copy the tensor-core kernels read (<see cref="Bf16Copies"/>), which stops being current the
/// moment anything is about to write the float32 values (<see cref="WriteAddress"/>). A kernel may also write only
/// the bf16 copy (an activation between bf16 kernels): the float32 values are then stale, and the float32 buffer is
/// not even allocated until something reads float32, which widens the copy first (<see cref="Bf16Copies.Widened"/>).
/// </summary>
internal sealed class CudaStorage(Func<long, DeviceBuffer> allocate, long bytes) : TensorStorage
{
    private DeviceBuffer? _buffer;

    public override long ByteLength => bytes;

    /// <summary>The bf16 copy of one view of this storage; null until a bf16 kernel reads or writes one.</summary>
    public Bf16Copy? Bf16 { get; set; }

    /// <summary>Whether the bf16 copy holds the view's only current values (written alone); float32 reads must widen it first.</summary>
    public bool Float32Stale { get; set; }

    /// <summary>Whether the float32 buffer exists: a storage written only as bf16 and never read as float32 has none.</summary>
    public bool HoldsFloat32 => _buffer is not null;

    public static CudaStorage Of(Tensor t) =>
        t.Storage as CudaStorage ?? throw new ArgumentException($"tensor {t.Shape} does not live in CUDA device memory");

    /// <summary>
    /// The device address of the tensor's first float32 element, what the kernels take. A stale storage throws:
    /// whoever reads it must widen its bf16 copy first (<see cref="Bf16Copies.Widened"/>).
    /// </summary>
    public static ulong Address(Tensor t)
    {
        var storage = Of(t);
        if (storage.Float32Stale)
            throw new InvalidOperationException($"tensor {t.Shape} holds its values in bf16 only; widen it before reading float32");
        return storage.Buffer.Address + (ulong)(t.ElementOffset * t.DType.SizeInBytes());
    }

    /// <summary>The address of a tensor that a kernel or copy is about to write: from here on its bf16 copy is stale.</summary>
    public static ulong WriteAddress(Tensor t)
    {
        ulong address = Address(t);
        Of(t).Bf16?.MarkStale();
        return address;
    }

    /// <summary>The float32 address of the view the bf16 copy covers, for widening into it (stale or not).</summary>
    public ulong Float32Address(long elementOffset) => Buffer.Address + (ulong)(elementOffset * sizeof(float));

    private DeviceBuffer Buffer => _buffer ??= allocate(bytes);

    public override void Dispose()
    {
        Bf16?.Dispose();
        _buffer?.Dispose();
        base.Dispose();
    }
}
