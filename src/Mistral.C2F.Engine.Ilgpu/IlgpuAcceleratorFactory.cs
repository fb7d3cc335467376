using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// Creates the ILGPU context and accelerator for a device preference. Probing for CUDA never throws:
/// a missing driver, no GPU or a failing driver call all fall back to the CPU accelerator under
/// <see cref="IlgpuDevice.Auto"/>, with the reason recorded.
/// </summary>
internal static class IlgpuAcceleratorFactory
{
    public static (Context Context, Accelerator Accelerator, IlgpuAcceleratorInfo Info) Create(IlgpuDevice preference)
    {
        string? fallbackReason = null;
        if (preference != IlgpuDevice.Cpu)
        {
            var (context, reason) = TryCuda();
            if (context is not null)
            {
                var accelerator = context.CreateCudaAccelerator(0);
                return (context, accelerator, Describe(accelerator, IlgpuDevice.Cuda, null));
            }
            if (preference == IlgpuDevice.Cuda) throw new InvalidOperationException($"no ILGPU CUDA accelerator: {reason}");
            fallbackReason = $"no CUDA: {reason}";
        }
        // The default CPU device simulates warps of 4 and groups of 16; the Nvidia kind gives the warps of 32
        // and groups of up to 1024 threads that the kernels are written for.
        var cpuContext = Context.Create(builder => builder.CPU(CPUDeviceKind.Nvidia));
        var cpu = cpuContext.CreateCPUAccelerator(0);
        return (cpuContext, cpu, Describe(cpu, IlgpuDevice.Cpu, fallbackReason));
    }

    /// <summary>Whether ILGPU can drive a CUDA GPU here, and if not, why.</summary>
    public static bool CudaAvailable(out string reason)
    {
        var (context, why) = TryCuda();
        context?.Dispose();
        reason = why ?? "";
        return context is not null;
    }

    private static (Context? Context, string? Reason) TryCuda()
    {
        Context? context = null;
        try
        {
            context = Context.Create(builder => builder.Cuda());
            if (context.GetCudaDevices().Count > 0) return (context, null);
            context.Dispose();
            return (null, "ILGPU found no CUDA device");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose();
            return (null, $"probing CUDA failed: {e.GetType().Name}: {e.Message}");
        }
    }

    private static IlgpuAcceleratorInfo Describe(Accelerator accelerator, IlgpuDevice kind, string? fallbackReason) =>
        new(kind, accelerator.Name, accelerator.WarpSize, accelerator.MaxNumThreadsPerGroup, accelerator.NumMultiprocessors,
            accelerator.MemorySize, accelerator.MaxSharedMemoryPerGroup, fallbackReason);
}
