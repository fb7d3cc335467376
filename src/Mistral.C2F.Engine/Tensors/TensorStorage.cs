using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Tensors;

/// <summary>A flat buffer owned by a backend. Tensors are typed, shaped windows onto a storage.</summary>
public abstract class TensorStorage : IDisposable
{
    public abstract long ByteLength { get; }
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>
/// Host memory on the pinned object heap: a stable address for SIMD kernels and native code, and
/// freed by the garbage collector, so a forgotten Dispose never leaks.
/// </summary>
public sealed class HostStorage : TensorStorage
{
    private readonly byte[] _bytes;

    public HostStorage(long byteLength)
    {
        if (byteLength > Array.MaxLength)
            throw new OutOfMemoryException($"a host tensor of {byteLength} bytes exceeds the {Array.MaxLength}-byte limit of one buffer");
        _bytes = GC.AllocateUninitializedArray<byte>((int)byteLength, pinned: true);
    }

    public override long ByteLength => _bytes.LongLength;

    public Span<T> AsSpan<T>(long elementOffset, long elementCount) where T : unmanaged
    {
        var all = MemoryMarshal.Cast<byte, T>(_bytes.AsSpan());
        return all.Slice(checked((int)elementOffset), checked((int)elementCount));
    }

    public unsafe T* Pointer<T>(long elementOffset) where T : unmanaged =>
        (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bytes)) + elementOffset;
}
