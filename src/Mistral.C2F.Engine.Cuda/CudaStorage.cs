using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>Device memory of one <see cref="IKernelDevice"/>; tensors view it at their element offset.</summary>
internal sealed class CudaStorage(DeviceBuffer buffer) : TensorStorage
{
    private readonly DeviceBuffer _buffer = buffer;

    public override long ByteLength => _buffer.Bytes;

    /// <summary>The device address of the tensor's first element, what the kernels take.</summary>
    public static ulong Address(Tensor t) =>
        (t.Storage as CudaStorage ?? throw new ArgumentException($"tensor {t.Shape} does not live in CUDA device memory"))
        ._buffer.Address + (ulong)(t.ElementOffset * t.DType.SizeInBytes());

    public override void Dispose()
    {
        _buffer.Dispose();
        base.Dispose();
    }
}
