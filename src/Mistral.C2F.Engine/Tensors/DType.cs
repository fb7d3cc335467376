namespace Mistral.C2F.Engine.Tensors;

/// <summary>Element types a tensor can hold.</summary>
/// <remarks>
/// F32 is the compute type of the CPU backend, F64 that of the reference backend. BF16 and F16 exist for
/// loading and storing checkpoints; I32 holds token ids and positions.
/// </remarks>
public enum DType
{
    F32,
    F64,
    BF16,
    F16,
    I32,
}

public static class DTypeExtensions
{
    public static int SizeInBytes(this DType dtype) => dtype switch
    {
        DType.F32 => 4,
        DType.F64 => 8,
        DType.BF16 => 2,
        DType.F16 => 2,
        DType.I32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsFloatingPoint(this DType dtype) => dtype != DType.I32;
}
