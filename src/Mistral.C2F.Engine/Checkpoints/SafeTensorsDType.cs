using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>The element types a safetensors header may name, in the format's own order.</summary>
public enum SafeTensorsDType
{
    Bool,
    U8,
    I8,
    F8E5M2,
    F8E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

public static class SafeTensorsDTypes
{
    private static readonly (SafeTensorsDType DType, string Name, int Size)[] Table =
    [
        (SafeTensorsDType.Bool, "BOOL", 1), (SafeTensorsDType.U8, "U8", 1), (SafeTensorsDType.I8, "I8", 1),
        (SafeTensorsDType.F8E5M2, "F8_E5M2", 1), (SafeTensorsDType.F8E4M3, "F8_E4M3", 1),
        (SafeTensorsDType.I16, "I16", 2), (SafeTensorsDType.U16, "U16", 2), (SafeTensorsDType.F16, "F16", 2),
        (SafeTensorsDType.BF16, "BF16", 2), (SafeTensorsDType.I32, "I32", 4), (SafeTensorsDType.U32, "U32", 4),
        (SafeTensorsDType.F32, "F32", 4), (SafeTensorsDType.F64, "F64", 8), (SafeTensorsDType.I64, "I64", 8),
        (SafeTensorsDType.U64, "U64", 8),
    ];

    /// <summary>The float types <see cref="StorageConversion"/> turns into float32; integers and fp8 are refused.</summary>
    public static IReadOnlyList<SafeTensorsDType> ReadableAsFloat { get; } =
        [SafeTensorsDType.F32, SafeTensorsDType.BF16, SafeTensorsDType.F16, SafeTensorsDType.F64];

    /// <summary>The types a writer can produce from float32 values.</summary>
    public static IReadOnlyList<SafeTensorsDType> WritableFromFloat { get; } =
        [SafeTensorsDType.F32, SafeTensorsDType.BF16, SafeTensorsDType.F16];

    public static int ElementSize(this SafeTensorsDType dtype) => Entry(dtype).Size;

    /// <summary>The spelling in a header's "dtype" field.</summary>
    public static string FormatName(this SafeTensorsDType dtype) => Entry(dtype).Name;

    public static bool TryParse(string formatName, out SafeTensorsDType dtype)
    {
        foreach (var entry in Table)
        {
            if (entry.Name == formatName)
            {
                dtype = entry.DType;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    public static SafeTensorsDType FromEngine(DType dtype) => dtype switch
    {
        DType.F32 => SafeTensorsDType.F32,
        DType.F64 => SafeTensorsDType.F64,
        DType.BF16 => SafeTensorsDType.BF16,
        DType.F16 => SafeTensorsDType.F16,
        DType.I32 => SafeTensorsDType.I32,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors dtype for this engine dtype"),
    };

    // The table lists the enum in declaration order, so the enum value is the row.
    private static (SafeTensorsDType DType, string Name, int Size) Entry(SafeTensorsDType dtype) =>
        (uint)dtype < (uint)Table.Length
            ? Table[(int)dtype]
            : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype");
}
