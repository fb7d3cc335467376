using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Cuda.Emulation;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>The two places the hand-written kernels run: a GPU through the driver, or the CPU emulator.</summary>
public static class CudaBackendFactory
{
    /// <summary>The kernels on GPU <paramref name="ordinal"/>, or null with the reason (no driver, no GPU, built without nvcc).</summary>
    public static CudaBackend? TryCreateOnGpu(out string reason, CudaPrecision precision = CudaPrecision.Float32, int ordinal = 0) =>
        CudaDriverDevice.TryCreate(out reason, ordinal) is { } device ? new CudaBackend(device, ownsDevice: true, precision) : null;

    /// <summary>The kernels on the CPU emulator (slow: for tests and for checking a change without a GPU), or null with the reason.</summary>
    public static CudaBackend? TryCreateEmulated(out string reason, CudaPrecision precision = CudaPrecision.Float32) =>
        EmulatedDevice.TryCreate(out reason) is { } device ? new CudaBackend(device, ownsDevice: true, precision) : null;
}
