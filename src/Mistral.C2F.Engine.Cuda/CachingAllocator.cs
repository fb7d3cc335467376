using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// Tensor memory of the CUDA backend from a <see cref="DeviceBlockPool{TBlock}"/>: each tensor gets a buffer of its
/// own size over a pooled block, which goes back to the pool when the tensor is freed. On the emulator blocks are
/// reused for their exact size only, so its bounds check of every copy still sees each tensor's own size.
/// </summary>
internal sealed class CachingAllocator(IKernelDevice device, bool exactSizes) : IDisposable
{
    private readonly DeviceBlockPool<DeviceBuffer> _pool = new(device.Allocate, block => block.Dispose(), exactSizes);

    /// <summary>Bytes held for reuse, not in use by any tensor.</summary>
    public long CachedBytes => _pool.CachedBytes;

    public DeviceBuffer Allocate(long bytes)
    {
        var (block, size) = _pool.Rent(bytes);
        return new DeviceBuffer(block.Address, bytes, _ => _pool.Return(block, size));
    }

    public void Dispose() => _pool.Dispose();
}
