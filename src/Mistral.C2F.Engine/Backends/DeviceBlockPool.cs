namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// Device memory blocks kept for reuse, for the device backends' tensors: a freed tensor's block goes back to a free
/// list of its size class and the next tensor of that class takes it, so a training step, a forward pass or a decode
/// step that repeats the shapes of the one before allocates nothing from the device (PyTorch's caching allocator does
/// the same). Size classes are 512-byte multiples up to 64 KiB, then four per power of two (at most 25 % unused); with
/// <c>exactSizes</c> a block serves only its own size. When the device runs out of memory, the cached blocks are
/// freed and the allocation tried once more. A block returned after the pool is disposed is freed at once.
/// </summary>
/// <typeparam name="TBlock">The device's buffer type.</typeparam>
/// <param name="counter">Where allocations and frees that reach the device are counted, if anywhere.</param>
public sealed class DeviceBlockPool<TBlock>(Func<long, TBlock> allocate, Action<TBlock> free, bool exactSizes, DeviceCounter? counter = null)
    : IDisposable
{
    private const long SmallGranule = 512, SmallLimit = 64 << 10;

    private readonly Dictionary<long, Stack<TBlock>> _free = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Bytes held in free lists, not in use by any tensor.</summary>
    public long CachedBytes { get; private set; }

    /// <summary>A block of at least <paramref name="bytes"/> and the size class to return it under.</summary>
    public (TBlock Block, long Size) Rent(long bytes)
    {
        long size = exactSizes ? bytes : SizeClass(bytes);
        lock (_lock)
        {
            if (_free.TryGetValue(size, out var blocks) && blocks.TryPop(out var cached))
            {
                CachedBytes -= size;
                return (cached, size);
            }
        }
        TBlock block;
        try
        {
            block = allocate(size);
        }
        catch (Exception) when (CachedBytes > 0)
        {
            ReleaseCached();
            block = allocate(size);
        }
        counter?.Allocated();
        return (block, size);
    }

    public void Return(TBlock block, long size)
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                if (!_free.TryGetValue(size, out var blocks)) _free[size] = blocks = new Stack<TBlock>();
                blocks.Push(block);
                CachedBytes += size;
                return;
            }
        }
        Free(block);  // a tensor that outlived its backend
    }

    /// <summary>Frees every cached block back to the device.</summary>
    public void ReleaseCached()
    {
        lock (_lock)
        {
            foreach (var block in _free.Values.SelectMany(blocks => blocks)) Free(block);
            _free.Clear();
            CachedBytes = 0;
        }
    }

    private void Free(TBlock block)
    {
        free(block);
        counter?.Freed();
    }

    /// <summary>The bytes a request of <paramref name="bytes"/> is served with.</summary>
    public static long SizeClass(long bytes)
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
