using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Cuda.Emulation;
using Mistral.C2F.Engine.Cuda.Tests.Support;

[assembly: AssemblyFixture(typeof(KernelDevices))]
// A device, like a CUDA stream, serves one thread; the emulator already runs a launch's blocks on every core.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Mistral.C2F.Engine.Cuda.Tests.Support;

/// <summary>
/// The devices the kernels run on, created once for the test assembly: the CPU emulator when its native
/// library was built, the GPU through the CUDA driver when there is one. Asking for an absent one skips
/// the calling test with the reason.
/// </summary>
public sealed class KernelDevices : IDisposable
{
    private readonly Lazy<(IKernelDevice? Device, string Reason)> _emulator = new(() =>
    {
        var device = EmulatedDevice.TryCreate(out var reason);
        return (device, reason);
    });

    private readonly Lazy<(IKernelDevice? Device, string Reason)> _cuda = new(() =>
    {
        var device = CudaDriverDevice.TryCreate(out var reason);
        return (device, reason);
    });

    private CudaBackend? _emulatedBackend, _cudaBackend, _emulatedBf16Backend, _cudaBf16Backend;

    /// <summary>The CPU emulator of the kernels, or a skip saying why its library is missing.</summary>
    public IKernelDevice Emulator => _emulator.Value.Device ?? Skip("no CPU emulator", _emulator.Value.Reason);

    /// <summary>A CUDA GPU through the driver API, or a skip saying why there is none.</summary>
    public IKernelDevice Cuda => _cuda.Value.Device ?? Skip("no CUDA device", _cuda.Value.Reason);

    /// <summary>The op contract on the emulated kernels (one backend for the assembly, sharing the emulator).</summary>
    public CudaBackend EmulatedBackend => _emulatedBackend ??= new CudaBackend(Emulator, ownsDevice: false);

    /// <summary>The op contract on the GPU, or a skip saying why there is none.</summary>
    public CudaBackend CudaBackend => _cudaBackend ??= new CudaBackend(Cuda, ownsDevice: false);

    /// <summary>The emulated kernels with bf16 tensor-core products and flash attention (<see cref="CudaPrecision.Bf16TensorCores"/>).</summary>
    public CudaBackend EmulatedBf16Backend => _emulatedBf16Backend ??= new CudaBackend(Emulator, ownsDevice: false, CudaPrecision.Bf16TensorCores);

    /// <summary>The GPU with bf16 tensor-core products and flash attention, or a skip saying why there is none.</summary>
    public CudaBackend CudaBf16Backend => _cudaBf16Backend ??= new CudaBackend(Cuda, ownsDevice: false, CudaPrecision.Bf16TensorCores);

    private static IKernelDevice Skip(string what, string reason)
    {
        Assert.Skip($"{what}: {reason}");
        throw new System.Diagnostics.UnreachableException();
    }

    public void Dispose()
    {
        _emulatedBackend?.Dispose();
        _cudaBackend?.Dispose();
        _emulatedBf16Backend?.Dispose();
        _cudaBf16Backend?.Dispose();
        if (_emulator.IsValueCreated) _emulator.Value.Device?.Dispose();
        if (_cuda.IsValueCreated) _cuda.Value.Device?.Dispose();
    }
}
