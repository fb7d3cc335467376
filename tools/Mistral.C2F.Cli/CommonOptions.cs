using System.CommandLine;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Ilgpu;

namespace Mistral.C2F.Cli;

/// <summary>Options that several commands share, and the backend they name.</summary>
internal static class CommonOptions
{
    public static Option<string> Backend() => new Option<string>("--backend")
    {
        Description = "Compute backend: cpu (float32 SIMD), ilgpu (ILGPU kernels on a CUDA GPU, else its CPU accelerator; slow there), " +
            "cuda (ILGPU on a CUDA GPU, an error without one), reference (float64, slow; the oracle). Default: ilgpu with a CUDA GPU, else cpu",
        DefaultValueFactory = _ => IlgpuBackend.CudaAvailable(out var _) ? "ilgpu" : "cpu",
    }.AcceptOnlyFromAmong("cpu", "ilgpu", "cuda", "reference");

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<string> ModelDirectory() => new("--model")
    {
        Description = "Model directory in Hugging Face layout (config.json, *.safetensors, tokenizer.model)",
        Required = true,
    };

    /// <summary>The model directory's full path, or a clear error when it does not exist.</summary>
    public static string ExistingDirectory(string path) =>
        Directory.Exists(path) ? Path.GetFullPath(path) : throw new DirectoryNotFoundException($"{Path.GetFullPath(path)}: model directory not found");

    public static Backend CreateBackend(string name, int threads) => name switch
    {
        "cpu" => new CpuBackend(threads >= 1 ? threads : throw new ArgumentException($"--threads must be ≥ 1, got {threads}")),
        "reference" => new ReferenceBackend(),
        "ilgpu" => IlgpuBackend.Create(),
        "cuda" => IlgpuBackend.CudaAvailable(out var reason) ? IlgpuBackend.Create(IlgpuDevice.Cuda)
            : throw new NotSupportedException($"--backend cuda needs a CUDA GPU: {reason}"),
        _ => throw new ArgumentException($"unknown backend '{name}'"),
    };
}
