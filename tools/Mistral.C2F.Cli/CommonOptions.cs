using System.CommandLine;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Ilgpu;

namespace Mistral.C2F.Cli;

/// <summary>Options that several commands share, and the backend they name.</summary>
internal static class CommonOptions
{
    public static Option<string> Backend() => new Option<string>("--backend")
    {
        Description = "Compute backend: cpu (float32 SIMD), cuda (the hand-written CUDA kernels on a GPU; an error without one), " +
            "cuda-bf16 (the same with matrix products and training-sequence attention on bf16 tensor cores, float32 accumulation: mixed precision), " +
            "ilgpu (ILGPU kernels on a CUDA GPU, else its CPU accelerator; slow there), cuda-emu (the CUDA kernels on their CPU " +
            "emulator; very slow, for checking kernels without a GPU), cuda-emu-bf16 (cuda-bf16 on the emulator), reference (float64, slow; the oracle). " +
            "Default: cuda with a GPU and PTX, else ilgpu with a CUDA GPU, else cpu",
        DefaultValueFactory = _ => DefaultBackend(),
    }.AcceptOnlyFromAmong("cpu", "cuda", "cuda-bf16", "ilgpu", "cuda-emu", "cuda-emu-bf16", "reference");

    public static Option<int> Threads() => new Option<int>("--threads")
    {
        Description = "CPU threads (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    }.AtLeast(1);

    public static Option<string> ModelDirectory() => new("--model")
    {
        Description = "Model directory in Hugging Face layout (config.json, *.safetensors, tokenizer.model)",
        Required = true,
    };

    public static Option<bool> AllowNonFinite() => new("--allow-non-finite")
    {
        Description = "Load weights that hold NaN or infinity (refused otherwise); they then propagate through every op as IEEE arithmetic does",
    };

    /// <summary>The model directory's full path, or a clear error when it does not exist.</summary>
    public static string ExistingDirectory(string path) =>
        Directory.Exists(path) ? Path.GetFullPath(path) : throw new DirectoryNotFoundException($"{Path.GetFullPath(path)}: model directory not found");

    public static Backend CreateBackend(string name, int threads) => name switch
    {
        "cpu" => new CpuBackend(threads >= 1 ? threads : throw new ArgumentException($"--threads must be ≥ 1, got {threads}")),
        "reference" => new ReferenceBackend(),
        "ilgpu" => IlgpuBackend.Create(),
        "cuda" => OnThisRanksGpu(name, CudaPrecision.Float32),
        "cuda-bf16" => OnThisRanksGpu(name, CudaPrecision.Bf16TensorCores),
        "cuda-emu" => CudaBackendFactory.TryCreateEmulated(out var reason)
            ?? throw new NotSupportedException($"--backend cuda-emu: {reason}"),
        "cuda-emu-bf16" => CudaBackendFactory.TryCreateEmulated(out var reason, CudaPrecision.Bf16TensorCores)
            ?? throw new NotSupportedException($"--backend cuda-emu-bf16: {reason}"),
        _ => throw new ArgumentException($"unknown backend '{name}'"),
    };

    /// <summary>The kernels on GPU k for the k-th rank on this machine: one GPU per rank, as NCCL requires (GPU 0 alone).</summary>
    private static CudaBackend OnThisRanksGpu(string name, CudaPrecision precision) =>
        CudaBackendFactory.TryCreateOnGpu(out var reason, precision, JobLaunch.LocalRank)
        ?? throw new NotSupportedException($"--backend {name}: {reason}" +
            (JobLaunch.LocalRank > 0 ? $" (rank {JobLaunch.Rank} is rank {JobLaunch.LocalRank} on this machine and takes its GPU {JobLaunch.LocalRank})" : ""));

    /// <summary>The fastest backend this machine has; probing the GPU once costs a driver initialisation.</summary>
    private static string DefaultBackend()
    {
        using (var gpu = CudaBackendFactory.TryCreateOnGpu(out _))
            if (gpu is not null) return "cuda";
        return IlgpuBackend.CudaAvailable(out _) ? "ilgpu" : "cpu";
    }
}
