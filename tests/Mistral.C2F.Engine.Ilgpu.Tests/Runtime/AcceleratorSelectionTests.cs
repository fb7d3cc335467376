namespace Mistral.C2F.Engine.Ilgpu.Tests.Runtime;

/// <summary>Picking an accelerator: the CPU accelerator's geometry, and CUDA probing that never throws.</summary>
[Trait("Backend", "ilgpu")]
public sealed class AcceleratorSelectionTests
{
    [Fact]
    public void The_cpu_accelerator_simulates_warps_of_32_and_groups_of_1024()
    {
        using var backend = IlgpuBackend.Create(IlgpuDevice.Cpu);
        Assert.Equal("ilgpu-cpu", backend.Name);
        Assert.Equal(Tensors.DType.F32, backend.FloatType);
        Assert.Equal(IlgpuDevice.Cpu, backend.Accelerator.Kind);
        Assert.Equal(32, backend.Accelerator.WarpSize);
        Assert.Equal(1024, backend.Accelerator.MaxGroupSize);
        Assert.Null(backend.Accelerator.FallbackReason);
        Assert.Contains("warp 32", backend.Accelerator.ToString());
    }

    [Fact]
    public void Auto_takes_cuda_when_present_and_otherwise_falls_back_to_the_cpu_with_the_reason()
    {
        bool cuda = IlgpuBackend.CudaAvailable(out string reason);
        using var backend = IlgpuBackend.Create();
        if (cuda)
        {
            Assert.Equal(IlgpuDevice.Cuda, backend.Accelerator.Kind);
            Assert.Equal("ilgpu-cuda", backend.Name);
        }
        else
        {
            Assert.Equal(IlgpuDevice.Cpu, backend.Accelerator.Kind);
            Assert.Contains(reason, backend.Accelerator.FallbackReason);
        }
    }

    [Fact]
    public void Asking_for_cuda_without_a_gpu_fails_with_the_reason()
    {
        if (IlgpuBackend.CudaAvailable(out string reason)) Assert.Skip("a CUDA device is present");
        var error = Assert.Throws<InvalidOperationException>(() => IlgpuBackend.Create(IlgpuDevice.Cuda));
        Assert.Contains(reason, error.Message);
    }
}
