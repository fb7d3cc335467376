namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>Device scratch that grows to the largest request and is reused by later launches (same stream).</summary>
internal sealed class KernelScratch(IKernelDevice device) : IDisposable
{
    private DeviceBuffer? _buffer;

    public ulong Get(long bytes)
    {
        if (_buffer is null || _buffer.Bytes < bytes)
        {
            _buffer?.Dispose();
            _buffer = device.Allocate(Math.Max(bytes, 256));
        }
        return _buffer.Address;
    }

    public void Dispose() => _buffer?.Dispose();
}
