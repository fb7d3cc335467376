using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>A device that counts what is asked of it (<see cref="DeviceCounter"/>) and passes every call on.</summary>
internal sealed class CountingDevice(IKernelDevice inner, bool ownsInner) : IKernelDevice
{
    private readonly DeviceCounter _counter = new();

    public IKernelDevice Inner => inner;

    public DeviceCounts Counts => _counter.Counts;

    public string Name => inner.Name;

    public int Multiprocessors => inner.Multiprocessors;

    public DeviceBuffer Allocate(long bytes)
    {
        var buffer = inner.Allocate(bytes);
        _counter.Allocated();
        return new DeviceBuffer(buffer.Address, buffer.Bytes, _ =>
        {
            _counter.Freed();
            buffer.Dispose();
        });
    }

    public unsafe void Upload<T>(ReadOnlySpan<T> source, ulong destination) where T : unmanaged
    {
        inner.Upload(source, destination);
        _counter.Uploaded((long)source.Length * sizeof(T));
    }

    public unsafe void Download<T>(ulong source, Span<T> destination) where T : unmanaged
    {
        inner.Download(source, destination);
        _counter.Synced();
        _counter.Downloaded((long)destination.Length * sizeof(T));
    }

    public void Fill32(ulong destination, uint value, long count)
    {
        inner.Fill32(destination, value, count);
        _counter.Launched();
    }

    public void Launch(string kernel, LaunchShape shape, params KernelArg[] args)
    {
        inner.Launch(kernel, shape, args);
        _counter.Launched();
    }

    public void Synchronize()
    {
        inner.Synchronize();
        _counter.Synced();
    }

    public void Dispose()
    {
        if (ownsInner) inner.Dispose();
    }
}
