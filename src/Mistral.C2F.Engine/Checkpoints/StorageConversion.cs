using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// float32 ↔ the little-endian bytes of a stored tensor. Spans only, no per-element allocation; the
/// engine runs on little-endian machines, so stored bytes reinterpret directly as elements.
/// </summary>
internal static class StorageConversion
{
    /// <summary>Decodes <paramref name="destination"/>.Length elements of <paramref name="dtype"/>.</summary>
    public static void ToFloats(SafeTensorsDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case SafeTensorsDType.F32: MemoryMarshal.Cast<byte, float>(source).CopyTo(destination); break;
            case SafeTensorsDType.BF16: BFloat16.ToSingle(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case SafeTensorsDType.F16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination); break;
            case SafeTensorsDType.F64: TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, double>(source), destination); break;
            default: throw new NotSupportedException($"{dtype.FormatName()} cannot be read as float32");
        }
    }

    /// <summary>Encodes float32 values as <paramref name="dtype"/>, rounding to nearest even.</summary>
    public static void FromFloats(SafeTensorsDType dtype, ReadOnlySpan<float> source, Span<byte> destination)
    {
        switch (dtype)
        {
            case SafeTensorsDType.F32: source.CopyTo(MemoryMarshal.Cast<byte, float>(destination)); break;
            case SafeTensorsDType.BF16: BFloat16.FromSingle(source, MemoryMarshal.Cast<byte, ushort>(destination)); break;
            case SafeTensorsDType.F16: TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination)); break;
            default: throw new NotSupportedException($"float32 values cannot be stored as {dtype.FormatName()}");
        }
    }
}
