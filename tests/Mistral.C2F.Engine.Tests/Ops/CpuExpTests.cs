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
        var x = Enumerable.Range(0, 100_003).Select(_ => (float)(random.NextDouble() * 175 - 87.3)).ToArray(); // ragged length: a padded tail
        x[0] = 0; x[1] = -1e-30f; x[2] = 88f; x[3] = -87.3f;
        var result = new float[x.Length];
        CpuExp.Exp(x, result);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Exp(x[i]);
            Assert.True(Math.Abs(result[i] - expected) <= 2 * Ulp(expected), $"exp({x[i]:R}) = {result[i]:R}, expected {expected:R}");
        }

        float[] below = [float.NegativeInfinity, -1e30f, -100f, -87.34f];
        var zeros = new float[below.Length];
        CpuExp.Exp(below, zeros);
        Assert.All(zeros, value => Assert.Equal(0f, value));
    }

    // The spacing of floats at |value|.
    private static double Ulp(double value) => (double)MathF.BitIncrement((float)value) - (float)value;
}
