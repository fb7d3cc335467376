using System.Numerics;
using Mistral.C2F.Engine.Backends.Cpu;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>The float32 exp of the softmax kernels against Math.Exp in float64.</summary>
[Trait("Backend", "cpu")]
public sealed class CpuExpTests
{
    [Fact]
    public void Exp_is_within_two_ulp_over_the_normal_range_and_zero_below_it()
    {
        var random = new Random();
        var x = Enumerable.Range(0, 25_000 * Vector<float>.Count).Select(_ => (float)(random.NextDouble() * 175 - 87.3)).ToArray();
        x[0] = 0; x[1] = -1e-30f; x[2] = 88f; x[3] = -87.3f;
        var result = Exp(x);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Exp(x[i]);
            Assert.True(Math.Abs(result[i] - expected) <= 2 * Ulp(expected), $"exp({x[i]:R}) = {result[i]:R}, expected {expected:R}");
        }

        var below = Enumerable.Repeat(-87.34f, Vector<float>.Count).ToArray();
        (below[0], below[1], below[2]) = (float.NegativeInfinity, -1e30f, -100f);
        Assert.All(Exp(below), value => Assert.Equal(0f, value));
    }

    private static float[] Exp(float[] x)
    {
        var result = new float[x.Length];
        for (int i = 0; i < x.Length; i += Vector<float>.Count) CpuExp.Exp(new Vector<float>(x, i)).CopyTo(result, i);
        return result;
    }

    // The spacing of floats at |value|.
    private static double Ulp(double value) => (double)MathF.BitIncrement((float)value) - (float)value;
}
