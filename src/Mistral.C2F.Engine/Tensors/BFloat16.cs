using System.Numerics;

namespace Mistral.C2F.Engine.Tensors;

/// <summary>bfloat16 ↔ float32: the upper 16 bits of a float, rounded to nearest even.</summary>
public static class BFloat16
{
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40); // keep NaN a (quiet) NaN
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>Widens every element; the vector loop is what makes loading bf16 checkpoints fast.</summary>
    public static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        RequireRoom(source.Length, destination.Length);
        int i = 0, half = Vector<uint>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(new Vector<ushort>(source[i..]), out var low, out var high);
                Vector.AsVectorSingle(low << 16).CopyTo(destination[i..]);
                Vector.AsVectorSingle(high << 16).CopyTo(destination[(i + half)..]);
            }
        }
        for (; i < source.Length; i++) destination[i] = ToSingle(source[i]);
    }

    /// <summary>Rounds every element exactly as the scalar <see cref="FromSingle(float)"/> does.</summary>
    public static void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        RequireRoom(source.Length, destination.Length);
        int i = 0, half = Vector<uint>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                var low = RoundToUpperHalf(new Vector<float>(source[i..]));
                var high = RoundToUpperHalf(new Vector<float>(source[(i + half)..]));
                Vector.Narrow(low, high).CopyTo(destination[i..]);
            }
        }
        for (; i < source.Length; i++) destination[i] = FromSingle(source[i]);
    }

    private static Vector<uint> RoundToUpperHalf(Vector<float> values)
    {
        var bits = Vector.AsVectorUInt32(values);
        var rounded = (bits + new Vector<uint>(0x7FFF) + ((bits >> 16) & Vector<uint>.One)) >> 16;
        var quietNaN = (bits >> 16) | new Vector<uint>(0x40);
        var isNaN = ~Vector.AsVectorUInt32(Vector.Equals(values, values));
        return Vector.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    private static void RequireRoom(int sourceLength, int destinationLength)
    {
        if (destinationLength < sourceLength)
            throw new ArgumentException($"destination holds {destinationLength} elements, source has {sourceLength}");
    }
}
