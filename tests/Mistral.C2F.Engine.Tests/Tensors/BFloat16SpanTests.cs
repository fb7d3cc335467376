using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Tests.Tensors;

/// <summary>The vectorised span conversions agree bit for bit with the scalar definitions.</summary>
[Trait("Backend", "cpu")]
public sealed class BFloat16SpanTests
{
    private static readonly float[] Special =
    [
        0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity,
        float.NegativeInfinity, float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F800001), // signalling NaN
        BitConverter.UInt32BitsToSingle(0x3F808000), BitConverter.UInt32BitsToSingle(0x3F818000), // ties: to even, both ways
        BitConverter.UInt32BitsToSingle(0x7F7FFFFF), BitConverter.UInt32BitsToSingle(0x007FFFFF), // max finite, largest subnormal
    ];

    [Fact]
    public void FromSingle_on_spans_rounds_exactly_like_the_scalar_version()
    {
        var random = new Random(7);
        var values = Special.Concat(Enumerable.Range(0, 4099).Select(_ => BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)))).ToArray();
        var vector = new ushort[values.Length];
        BFloat16.FromSingle(values, vector);
        Assert.Equal(values.Select(BFloat16.FromSingle), vector);
    }

    [Fact]
    public void ToSingle_on_spans_widens_exactly_like_the_scalar_version()
    {
        var bits = Enumerable.Range(0, 65536).Select(b => (ushort)b).Append((ushort)0x1234).ToArray(); // every bf16, odd length
        var vector = new float[bits.Length];
        BFloat16.ToSingle(bits, vector);
        Assert.Equal(bits.Select(b => BitConverter.SingleToUInt32Bits(BFloat16.ToSingle(b))), vector.Select(BitConverter.SingleToUInt32Bits));
    }
}
