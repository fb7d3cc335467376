namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// The device-to-device copy of kernels/bandwidth.cu: 16-byte vectors in a grid-stride loop, the bandwidth
/// roofline the memory-bound kernels are measured against.
/// </summary>
public sealed class BandwidthKernels(IKernelDevice device)
{
    private const int VectorBytes = 16;

    /// <summary>Copies <paramref name="bytes"/> (a multiple of 16) from <paramref name="source"/> to <paramref name="destination"/>, both 16-byte aligned.</summary>
    public void Copy(ulong source, ulong destination, long bytes)
    {
        if (bytes % VectorBytes != 0 || source % VectorBytes != 0 || destination % VectorBytes != 0)
            throw new ArgumentException($"the bandwidth copy moves whole 16-byte vectors between 16-byte aligned addresses, got {bytes} bytes");
        if (bytes == 0) return;
        long vectors = bytes / VectorBytes;
        device.Launch("c2f_bandwidth_copy_f32x4", MemoryBoundLaunch.Flat(vectors, 1),
            KernelArg.Pointer(source), KernelArg.Pointer(destination), vectors);
    }
}
