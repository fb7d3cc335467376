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
}
