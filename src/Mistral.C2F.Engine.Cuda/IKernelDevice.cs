namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// What the CUDA backend needs of a device: memory, copies, a 32-bit fill and kernel launches by name. The
/// CUDA driver (<see cref="Driver.CudaDriverDevice"/>) and the CPU emulator of the same kernels
/// (<see cref="Emulation.EmulatedDevice"/>) implement it, so launch code is tested without a GPU.
/// A device, like a CUDA stream, serves one thread at a time.
/// </summary>
public interface IKernelDevice : IDisposable
{
    /// <summary>The device in words, e.g. "NVIDIA H100 80GB HBM3 (sm_90)" or "CPU emulator".</summary>
    string Name { get; }

    /// <summary>Blocks that run side by side: streaming multiprocessors (132 on an H100 SXM), or the emulator's workers. Grids are sized by it.</summary>
    int Multiprocessors { get; }

    /// <summary>Uninitialised device memory of <paramref name="bytes"/> bytes (256-byte aligned).</summary>
    DeviceBuffer Allocate(long bytes);

    /// <summary>Copies host values to device memory at <paramref name="destination"/>.</summary>
    void Upload<T>(ReadOnlySpan<T> source, ulong destination) where T : unmanaged;

    /// <summary>Copies device memory at <paramref name="source"/> into host values; waits for earlier launches.</summary>
    void Download<T>(ulong source, Span<T> destination) where T : unmanaged;

    /// <summary>Sets <paramref name="count"/> 32-bit words at <paramref name="destination"/> to <paramref name="value"/> (NaN poison: 0x7FC00000).</summary>
    void Fill32(ulong destination, uint value, long count);

    /// <summary>Launches the kernel named <paramref name="kernel"/> (its extern "C" name); throws <see cref="CudaException"/> naming it on failure.</summary>
    void Launch(string kernel, LaunchShape shape, params KernelArg[] args);

    /// <summary>Waits for every launch so far; a fault of an asynchronous launch surfaces here.</summary>
    void Synchronize();
}
