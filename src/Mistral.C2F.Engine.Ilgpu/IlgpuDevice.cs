namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>Which ILGPU accelerator a backend runs on.</summary>
public enum IlgpuDevice
{
    /// <summary>The first CUDA GPU ILGPU finds, otherwise the CPU accelerator.</summary>
    Auto,

    /// <summary>A CUDA GPU; creating the backend fails when there is none.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator, simulating a CUDA-like GPU (warp 32, up to 1024 threads per group).</summary>
    Cpu,
}
