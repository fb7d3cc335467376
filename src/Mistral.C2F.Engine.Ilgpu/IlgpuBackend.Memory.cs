using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>Device memory and the raw host copies under <see cref="Backends.DeviceMemoryBackend"/>'s transfers.</summary>
public sealed partial class IlgpuBackend
{
    public override Tensor Allocate(Shape shape, DType dtype) =>
        new(this, new IlgpuStorage(_pool, shape.ElementCount * dtype.SizeInBytes()), 0, shape, dtype, ownsStorage: true);

    protected override void CopyToDevice<T>(ReadOnlySpan<T> source, Tensor destination)
    {
        IlgpuStorage.View<T>(destination).CopyFromCPU<T, ArrayView<T>>(source);
        _counter.Uploaded((long)source.Length * Interop.SizeOf<T>());
    }

    protected override void CopyToHost<T>(Tensor source, Span<T> destination)
    {
        IlgpuStorage.View<T>(source).CopyToCPU(destination);
        _counter.Synced();
        _counter.Downloaded((long)destination.Length * Interop.SizeOf<T>());
    }

    protected override void AfterDownload() => _faults.ThrowIfAny();
}
