namespace Mistral.C2F.Engine.Cuda;

/// <summary>Device memory owned by the caller: <see cref="Address"/> is what kernels and copies take; disposing frees it.</summary>
public sealed class DeviceBuffer : IDisposable
{
    private readonly Action<ulong> _free;
    private bool _disposed;

    internal DeviceBuffer(ulong address, long bytes, Action<ulong> free)
    {
        Address = address;
        Bytes = bytes;
        _free = free;
    }

    public ulong Address { get; }

    public long Bytes { get; }

    /// <summary>The address <paramref name="bytes"/> into the buffer: a view's first element.</summary>
    public ulong At(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, Bytes);
        return Address + (ulong)bytes;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _free(Address);
    }
}
