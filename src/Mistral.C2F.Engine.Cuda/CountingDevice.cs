using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>A device that counts what is asked of it (<see cref="DeviceCounts"/>) and passes every call on.</summary>
internal sealed class CountingDevice(IKernelDevice inner, bool ownsInner) : IKernelDevice
{
    private long _allocations, _frees, _syncs, _uploaded, _downloaded, _launches;

    public IKernelDevice Inner => inner;

    public DeviceCounts Counts => new(_allocations, _frees, _syncs, _uploaded, _downloaded, _launches);

    public string Name => inner.Name;

    public int Multiprocessors => inner.Multiprocessors;

    public DeviceBuffer Allocate(long bytes)
    {
        var buffer = inner.Allocate(bytes);
        _allocations++;
        return new DeviceBuffer(buffer.Address, buffer.Bytes, _ =>
        {
            _frees++;
            buffer.Dispose();
        });
    }

    public unsafe void Upload<T>(ReadOnlySpan<T> source, ulong destination) where T : unmanaged
    {
        inner.Upload(source, destination);
        _uploaded += (long)source.Length * sizeof(T);
    }

    public unsafe void Download<T>(ulong source, Span<T> destination) where T : unmanaged
    {
        inner.Download(source, destination);
        _syncs++;
        _downloaded += (long)destination.Length * sizeof(T);
    }

    public void Fill32(ulong destination, uint value, long count)
    {
        inner.Fill32(destination, value, count);
        _launches++;
    }

    public void Launch(string kernel, LaunchShape shape, params KernelArg[] args)
    {
        inner.Launch(kernel, shape, args);
        _launches++;
    }

    public void Synchronize()
    {
        inner.Synchronize();
        _syncs++;
    }

    public void Dispose()
    {
        if (ownsInner) inner.Dispose();
    }
}
