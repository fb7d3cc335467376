using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>Comparisons with the float64 reference that also print the measured errors into the test output.</summary>
internal static class KernelAssert
{
    /// <summary>float32 kernels against float64: ‖out − ref‖/‖ref‖.</summary>
    public const double F32Tolerance = 1e-5;

    /// <summary>bf16 storage (inputs rounded to bf16 before the reference sees them, outputs rounded once).</summary>
    public const double Bf16Tolerance = 1e-2;

    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double tolerance, string what)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{what}: relative error {Numerics.RelativeError(actual, expected):E2}, max abs {Numerics.MaxAbsError(actual, expected):E2} (tolerance {tolerance:E0})");
        Numerics.AssertClose(actual, expected, tolerance, what);
    }

    /// <summary>
    /// -inf exactly where the reference has it (a query that saw nothing), the rest within 1e-5 absolute: an error δ
    /// in the log-sum-exp is a relative error δ of every probability recomputed from it, and a relative measure would
    /// blow up on values near zero (a query that sees one key with a score near 0).
    /// </summary>
    public static void LogSumExp(float[] actual, double[] expected, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var unseen = Enumerable.Range(0, expected.Length).Where(i => double.IsNegativeInfinity(expected[i])).ToArray();
        Assert.All(unseen, i => Assert.Equal(float.NegativeInfinity, actual[i]));
        var seen = Enumerable.Range(0, expected.Length).Except(unseen).ToArray();
        double maxAbs = Numerics.MaxAbsError(seen.Select(i => actual[i]).ToArray(), seen.Select(i => expected[i]).ToArray());
        TestContext.Current.TestOutputHelper?.WriteLine($"{what}: max abs error {maxAbs:E2}");
        Assert.True(maxAbs <= F32Tolerance, $"{what}: max abs error {maxAbs:E2} > {F32Tolerance:E1}");
    }
}
