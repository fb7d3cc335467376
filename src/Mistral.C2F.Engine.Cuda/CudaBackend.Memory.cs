using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>Device memory and the raw host copies under <see cref="Backends.DeviceMemoryBackend"/>'s transfers.</summary>
public sealed partial class CudaBackend
{
    public override Tensor Allocate(Shape shape, DType dtype) =>
        new(this, new CudaStorage(_allocator.Allocate, shape.ElementCount * dtype.SizeInBytes()), 0, shape, dtype, ownsStorage: true);

    protected override void CopyToDevice<T>(ReadOnlySpan<T> source, Tensor destination) => _device.Upload(source, Overwrite(destination));

    /// <summary>The result and the kernels' fault record come back in one copy (one wait) where the result is small.</summary>
    protected override void CopyToHost<T>(Tensor source, Span<T> destination) => _faults.Download(A(source), destination);

    protected override double[][] ToDoublesCore(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Any(t => t.DType != DType.F32)) return base.ToDoublesCore(tensors);
        var bytes = _faults.Download(tensors.Select(t => (A(t), t.ElementCount * sizeof(float))).ToList());
        return bytes.Select(b => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(b).ToArray().Select(v => (double)v).ToArray()).ToArray();
    }
}
