using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// Device memory of one <see cref="IKernelDevice"/>; tensors view it at their element offset. On the bf16 paths it
/// also keeps the bf16 copy the tensor-core kernels read (<see cref="Bf16Copies"/>), which stops being current the
/// moment anything is about to write the storage (<see cref="WriteAddress"/>).
/// </summary>
internal sealed class CudaStorage(DeviceBuffer buffer) : TensorStorage
{
    private readonly DeviceBuffer _buffer = buffer;

    public override long ByteLength => _buffer.Bytes;

    /// <summary>The bf16 copy of one view of this storage; null until a bf16 kernel reads or writes one.</summary>
    public Bf16Copy? Bf16 { get; set; }

    public static CudaStorage Of(Tensor t) =>
        t.Storage as CudaStorage ?? throw new ArgumentException($"tensor {t.Shape} does not live in CUDA device memory");

    /// <summary>The device address of the tensor's first element, what the kernels take.</summary>
    public static ulong Address(Tensor t) => Of(t)._buffer.Address + (ulong)(t.ElementOffset * t.DType.SizeInBytes());

    /// <summary>The address of a tensor that a kernel or copy is about to write: from here on its bf16 copy is stale.</summary>
    public static ulong WriteAddress(Tensor t)
    {
        Of(t).Bf16?.MarkStale();
        return Address(t);
    }

    public override void Dispose()
    {
        Bf16?.Dispose();
        _buffer.Dispose();
        base.Dispose();
    }
}
