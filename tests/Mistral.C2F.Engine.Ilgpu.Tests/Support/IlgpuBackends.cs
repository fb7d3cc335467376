using Mistral.C2F.Engine.Ilgpu.Tests.Support;

[assembly: AssemblyFixture(typeof(IlgpuBackends))]
// One backend per accelerator is shared by every test (ILGPU compiles a kernel once per accelerator, which
// takes far longer than the small checks themselves), and a backend, like a CUDA stream, serves one thread.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Mistral.C2F.Engine.Ilgpu.Tests.Support;

/// <summary>
/// The ILGPU backends under test, created once for the test assembly: the CPU accelerator always, the CUDA
/// accelerator when ILGPU finds a CUDA GPU (otherwise asking for it skips the test, saying why).
/// </summary>
public sealed class IlgpuBackends : IDisposable
{
    private readonly Lazy<IlgpuBackend> _cpu = new(() => IlgpuBackend.Create(IlgpuDevice.Cpu));
    private readonly Lazy<IlgpuBackend?> _cuda;
    private string _cudaMissing = "";

    public IlgpuBackends()
    {
        _cuda = new(() => IlgpuBackend.CudaAvailable(out _cudaMissing) ? IlgpuBackend.Create(IlgpuDevice.Cuda) : null);
    }

    public IlgpuBackend Cpu => _cpu.Value;

    /// <summary>The CUDA backend, or a skip of the calling test with the reason there is none.</summary>
    public IlgpuBackend Cuda => _cuda.Value ?? SkipWithoutCuda();

    private IlgpuBackend SkipWithoutCuda()
    {
        Assert.Skip($"no CUDA device: {_cudaMissing}");
        throw new System.Diagnostics.UnreachableException();
    }

    public void Dispose()
    {
        if (_cpu.IsValueCreated) _cpu.Value.Dispose();
        if (_cuda.IsValueCreated) _cuda.Value?.Dispose();
    }
}
