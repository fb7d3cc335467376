using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>Device memory and the raw host copies under <see cref="Backends.DeviceMemoryBackend"/>'s transfers.</summary>
public sealed partial class IlgpuBackend
{
    public override Tensor Allocate(Shape shape, DType dtype) =>
        new(this, new IlgpuStorage(_pool, shape.ElementCount * dtype.SizeInBytes()), 0, shape, dtype, ownsStorage: true);

    /// <summary>Buffers taken from the accelerator so far; a tensor served from the pool's free lists is not counted.</summary>
    public long DeviceAllocations => _pool.DeviceAllocations;

    protected override void CopyToDevice<T>(ReadOnlySpan<T> source, Tensor destination) =>
        IlgpuStorage.View<T>(destination).CopyFromCPU<T, ArrayView<T>>(source);

    protected override void CopyToHost<T>(Tensor source, Span<T> destination) => IlgpuStorage.View<T>(source).CopyToCPU(destination);

    protected override void AfterDownload() => _faults.ThrowIfAny();
}
