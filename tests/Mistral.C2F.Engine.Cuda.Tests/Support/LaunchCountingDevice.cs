namespace Mistral.C2F.Engine.Cuda.Tests.Support;

/// <summary>A device that forwards everything to another and counts the launches of each kernel; disposing it leaves the other alone.</summary>
internal sealed class LaunchCountingDevice(IKernelDevice inner) : IKernelDevice
{
    private readonly Dictionary<string, int> _launches = [];

    public int Launches(string kernel) => _launches.GetValueOrDefault(kernel);

    public string Name => inner.Name;
    public int Multiprocessors => inner.Multiprocessors;
    public DeviceBuffer Allocate(long bytes) => inner.Allocate(bytes);
    public void Upload<T>(ReadOnlySpan<T> source, ulong destination) where T : unmanaged => inner.Upload(source, destination);
    public void Download<T>(ulong source, Span<T> destination) where T : unmanaged => inner.Download(source, destination);
    public void Fill32(ulong destination, uint value, long count) => inner.Fill32(destination, value, count);
    public void Synchronize() => inner.Synchronize();

    public void Launch(string kernel, LaunchShape shape, params KernelArg[] args)
    {
        _launches[kernel] = Launches(kernel) + 1;
        inner.Launch(kernel, shape, args);
    }

    public void Dispose() { }
}
