namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// Device memory for tensors, kept for reuse: a freed tensor's block goes back to a free list of its size class and
/// the next allocation of that class takes it, so a training step, a forward pass or a decode step that repeats the
/// shapes of the one before allocates nothing from the device (PyTorch's caching allocator does the same). Size
/// classes are 512-byte multiples up to 64 KiB, then four per power of two (at most 25 % unused). When the device
/// runs out of memory, the cached blocks are freed and the allocation tried once more. With
/// <paramref name="exactSizes"/> a block is reused only for its own size, so a device that checks every copy against
/// its allocations (the emulator) still sees each tensor's bounds.
/// </summary>
internal sealed class CachingAllocator(IKernelDevice device, bool exactSizes) : IDisposable
{
    private const long SmallGranule = 512, SmallLimit = 64 << 10;

    private readonly Dictionary<long, Stack<DeviceBuffer>> _free = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Bytes held in free lists, not in use by any tensor.</summary>
    public long CachedBytes { get; private set; }

    public DeviceBuffer Allocate(long bytes)
    {
        long size = exactSizes ? bytes : SizeClass(bytes);
        DeviceBuffer? block = null;
        lock (_lock)
        {
            if (_free.TryGetValue(size, out var blocks) && blocks.TryPop(out block)) CachedBytes -= size;
        }
        block ??= AllocateFromDevice(size);
        return new DeviceBuffer(block.Address, bytes, _ => Return(size, block));
    }

    private DeviceBuffer AllocateFromDevice(long size)
    {
        try
        {
            return device.Allocate(size);
        }
        catch (CudaException) when (CachedBytes > 0)
        {
            ReleaseCached();
            return device.Allocate(size);
        }
    }

    private void Return(long size, DeviceBuffer block)
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                if (!_free.TryGetValue(size, out var blocks)) _free[size] = blocks = new Stack<DeviceBuffer>();
                blocks.Push(block);
                CachedBytes += size;
                return;
            }
        }
        block.Dispose();  // a tensor that outlived its backend
    }

    /// <summary>Frees every cached block back to the device.</summary>
    public void ReleaseCached()
    {
        lock (_lock)
        {
            foreach (var block in _free.Values.SelectMany(blocks => blocks)) block.Dispose();
            _free.Clear();
            CachedBytes = 0;
        }
    }

    /// <summary>The bytes a request of <paramref name="bytes"/> is served with.</summary>
    internal static long SizeClass(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes <= SmallLimit) return Math.Max(SmallGranule, (bytes + SmallGranule - 1) / SmallGranule * SmallGranule);
        long quarter = (1L << (63 - (int)long.LeadingZeroCount(bytes - 1))) / 4;  // a quarter of the power of two below
        return (bytes + quarter - 1) / quarter * quarter;
    }

    public void Dispose()
    {
        ReleaseCached();
        lock (_lock) _disposed = true;
    }
}
