namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// The element type a memory-bound kernel reads and writes: float32, or bf16 storage with float32 math
/// (inputs widened on load, outputs rounded to nearest even on store).
/// </summary>
public enum KernelStorage
{
    F32,
    Bf16,
}

internal static class KernelStorageNames
{
    /// <summary>The suffix of the kernel's entry point, e.g. c2f_rmsnorm_forward_bf16.</summary>
    public static string Suffix(this KernelStorage storage) => storage switch
    {
        KernelStorage.F32 => "f32",
        KernelStorage.Bf16 => "bf16",
        _ => throw new ArgumentOutOfRangeException(nameof(storage), storage, null),
    };

    /// <summary>
    /// The suffix of a kernel that reads <paramref name="storage"/> and writes its result as <paramref name="output"/>:
    /// c2f_rmsnorm_forward_f32_to_bf16 (float32 math and inputs, the result rounded to bf16 on store).
    /// </summary>
    public static string Suffix(this KernelStorage storage, KernelStorage output) =>
        storage == output ? storage.Suffix() : $"{storage.Suffix()}_to_{output.Suffix()}";

    public static int ElementBytes(this KernelStorage storage) => storage == KernelStorage.F32 ? 4 : 2;

    /// <summary>Elements per 16-byte vector access of the kernels.</summary>
    public static int VectorWidth(this KernelStorage storage) => 16 / storage.ElementBytes();
}
