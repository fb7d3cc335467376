using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// Device memory of one ILGPU accelerator, held as bytes; tensors view it with their own element type. The buffer is a
/// block of the backend's <see cref="DeviceBlockPool{TBlock}"/>, possibly larger than asked, and goes back to it on dispose.
/// </summary>
internal sealed class IlgpuStorage : TensorStorage
{
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _buffer;
    private readonly DeviceBlockPool<MemoryBuffer1D<byte, Stride1D.Dense>> _pool;
    private readonly long _blockSize;

    public IlgpuStorage(DeviceBlockPool<MemoryBuffer1D<byte, Stride1D.Dense>> pool, long byteLength)
    {
        // Rounded up to whole float64s so every element type can view the buffer, and never empty (ILGPU rejects that).
        ByteLength = Math.Max(8, (byteLength + 7) / 8 * 8);
        _pool = pool;
        (_buffer, _blockSize) = pool.Rent(ByteLength);
    }

    public override long ByteLength { get; }

    /// <summary>The tensor's elements as a device view of <typeparamref name="T"/>, which must match its dtype's size.</summary>
    public static ArrayView<T> View<T>(Tensor t) where T : unmanaged
    {
        if (Interop.SizeOf<T>() != t.DType.SizeInBytes())
            throw new ArgumentException($"a {t.DType} tensor cannot be viewed as {typeof(T).Name}");
        return Of(t)._buffer.View.AsContiguous().Cast<T>().SubView(t.ElementOffset, t.ElementCount);
    }

    /// <summary>The tensor's bytes, whatever its dtype.</summary>
    public static ArrayView<byte> Bytes(Tensor t)
    {
        int size = t.DType.SizeInBytes();
        return Of(t)._buffer.View.AsContiguous().SubView(t.ElementOffset * size, t.ElementCount * size);
    }

    private static IlgpuStorage Of(Tensor t) =>
        t.Storage as IlgpuStorage ?? throw new ArgumentException($"tensor {t.Shape} does not live in ILGPU device memory");

    public override void Dispose()
    {
        _pool.Return(_buffer, _blockSize);
        base.Dispose();
    }
}
