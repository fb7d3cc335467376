namespace Mistral.C2F.Engine.Cuda;

/// <summary>A failed device call: which kernel or API call failed, the error's name, and what it means.</summary>
public sealed class CudaException(string call, string error, string detail)
    : Exception($"{call}: {error}{(detail.Length > 0 ? $" ({detail})" : "")}")
{
    /// <summary>The kernel launched or the API call made, e.g. "c2f_rmsnorm_forward_f32" or "cuMemAlloc_v2".</summary>
    public string Call { get; } = call;

    /// <summary>The error's name, e.g. "CUDA_ERROR_OUT_OF_MEMORY", or the emulator's kind of failure.</summary>
    public string Error { get; } = error;
}
