using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>Device memory and the raw host copies under <see cref="Backends.DeviceMemoryBackend"/>'s transfers.</summary>
public sealed partial class CudaBackend
{
    public override Tensor Allocate(Shape shape, DType dtype) =>
        new(this, new CudaStorage(_allocator.Allocate(shape.ElementCount * dtype.SizeInBytes())), 0, shape, dtype, ownsStorage: true);

    protected override void CopyToDevice<T>(ReadOnlySpan<T> source, Tensor destination)
    {
        if (destination.DType == DType.I32) _flashLayout.Forget();
        _device.Upload(source, A(destination));
    }

    protected override void CopyToHost<T>(Tensor source, Span<T> destination) => _device.Download(A(source), destination);

    protected override void AfterDownload() => _faults.ThrowIfAny();
}
