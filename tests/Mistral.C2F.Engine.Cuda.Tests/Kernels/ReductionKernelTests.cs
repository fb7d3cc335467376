using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>Σ x² against a float64 loop, at ragged sizes and offsets, and bitwise repeatable.</summary>
public abstract class ReductionKernelTests(Func<IKernelDevice> device)
{
    private readonly Random _random = new(5);

    [Theory]
    [InlineData(1, 0)]
    [InlineData(67, 1)]
    [InlineData(1025, 0)]
    [InlineData(4099, 3)]
    [InlineData(1_000_003, 1)]
    public void SumOfSquares_matches_float64_and_repeats_exactly(int count, int offset)
    {
        float[] x = Numerics.RandomFloats(_random, count);
        double expected = 0;
        foreach (float value in x) expected += (double)value * value;
        using var buffers = new KernelBuffers(device());
        using var kernels = new ReductionKernels(device());
        ulong xs = buffers.Floats(x, offset);
        double first = kernels.SumOfSquares(xs, count), second = kernels.SumOfSquares(xs, count);
        // The squares are summed in float32 in groups of at most 4, then in float64.
        double relative = Math.Abs(first - expected) / expected;
        TestContext.Current.TestOutputHelper?.WriteLine($"Σ x²: relative error {relative:E2} (tolerance 1E-006)");
        Assert.True(relative <= 1e-6, $"Σ x² = {first}, expected {expected} (relative error {relative:E2})");
        Assert.Equal(first, second);
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedReductionKernelTests(KernelDevices devices) : ReductionKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaReductionKernelTests(KernelDevices devices) : ReductionKernelTests(() => devices.Cuda);
