using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>Σ x², √Σ x² and an accumulated Σ x against float64 loops, at ragged sizes and offsets, and bitwise repeatable.</summary>
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
        double SumOfSquares()
        {
            ulong total = buffers.Poisoned(sizeof(double) / sizeof(float));
            kernels.SumOfSquares([(xs, count)], total);
            var result = new double[1];
            device().Download<double>(total, result);
            return result[0];
        }
        double first = SumOfSquares(), second = SumOfSquares();
        // The squares are summed in float32 in groups of at most 4, then in float64.
        double relative = Math.Abs(first - expected) / expected;
        TestContext.Current.TestOutputHelper?.WriteLine($"Σ x²: relative error {relative:E2} (tolerance 1E-006)");
        Assert.True(relative <= 1e-6, $"Σ x² = {first}, expected {expected} (relative error {relative:E2})");
        Assert.Equal(first, second);
    }

    /// <summary>The global norm of ragged tensors (an empty one among them) and a loss total accumulated over two calls, left on the device.</summary>
    [Theory]
    [InlineData(new[] { 1 }, 0)]
    [InlineData(new[] { 67, 0, 4099, 5 }, 1)]
    [InlineData(new[] { 300_001, 1025 }, 3)]
    public void Norm_and_accumulated_sum_match_float64(int[] counts, int offset)
    {
        var arrays = counts.Select(c => Numerics.RandomFloats(_random, c)).ToArray();
        using var buffers = new KernelBuffers(device());
        using var kernels = new ReductionKernels(device());
        var ranges = arrays.Select(a => (buffers.Floats(a, offset), (long)a.Length)).ToList();
        ulong norm = buffers.Poisoned(1), total = buffers.Floats([1.5f]);
        kernels.Norm(ranges, norm);
        kernels.AccumulateSum(ranges[0].Item1, counts[0], -1, total);
        kernels.AccumulateSum(ranges[^1].Item1, counts[^1], 0.25, total);

        double expectedNorm = Math.Sqrt(arrays.Sum(a => a.Sum(v => (double)v * v)));
        double expectedTotal = 1.5 - arrays[0].Sum(v => (double)v) + 0.25 * arrays[^1].Sum(v => (double)v);
        float gotNorm = buffers.ReadFloats(norm, 1)[0], gotTotal = buffers.ReadFloats(total, 1)[0];
        Assert.True(Math.Abs(gotNorm - expectedNorm) <= 1e-6 * expectedNorm, $"norm {gotNorm}, expected {expectedNorm}");
        // The total is float32: its rounding, plus float32 vector sums scaled by the magnitudes summed.
        double scale = 1.5 + arrays[0].Sum(v => Math.Abs(v)) + 0.25 * arrays[^1].Sum(v => Math.Abs(v));
        Assert.True(Math.Abs(gotTotal - expectedTotal) <= 1e-6 * scale, $"total {gotTotal}, expected {expectedTotal} (scale {scale})");
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedReductionKernelTests(KernelDevices devices) : ReductionKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaReductionKernelTests(KernelDevices devices) : ReductionKernelTests(() => devices.Cuda);
