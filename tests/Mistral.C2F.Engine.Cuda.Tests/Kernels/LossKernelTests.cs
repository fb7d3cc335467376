using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// The reward model's and PPO's loss kernels against their float64 host definitions (<see cref="BradleyTerryStatistics"/>,
/// <see cref="PpoLosses"/>) on arrays that start off the allocations' alignment, gradients over poison, and bitwise
/// repeatable; the GPU check runs them under compute-sanitizer's memcheck.
/// </summary>
public abstract class LossKernelTests(Func<IKernelDevice> device)
{
    private const double Tolerance = 1e-5;
    private readonly Random _random = new(11);

    [Theory]
    [InlineData(1, 0, 0.0)]
    [InlineData(300, 1, 0.0)]
    [InlineData(300, 1, 0.05)]
    public void BradleyTerry_matches_float64_and_repeats_exactly(int pairs, int offset, double centering)
    {
        var scores = Numerics.RandomFloats(_random, 2 * pairs, 3f);
        var margins = Numerics.RandomFloats(_random, pairs, 0.5f);
        using var buffers = new KernelBuffers(device());
        var kernels = new BradleyTerryKernels(device());
        (ulong s, ulong m) = (buffers.Floats(scores, offset), buffers.Floats(margins, offset));
        (float[] Gradient, float[] Totals) Run()
        {
            ulong gradient = buffers.Poisoned(2 * pairs, offset), loss = buffers.Floats([0f]), statistics = buffers.Floats(new float[BradleyTerryStatistics.Count]);
            kernels.Loss(s, m, pairs, centering, pairs + 2, gradient, loss, statistics);
            return (buffers.ReadFloats(gradient, 2 * pairs), [.. buffers.ReadFloats(loss, 1), .. buffers.ReadFloats(statistics, BradleyTerryStatistics.Count)]);
        }
        var (first, second) = (Run(), Run());
        var (expectedLoss, expectedGradient, expectedSums) = BradleyTerryStatistics.Compute(Array.ConvertAll(scores, v => (double)v), Array.ConvertAll(margins, v => (double)v),
            centering, pairs + 2);

        AssertClose(expectedGradient, first.Gradient, "score gradient");
        AssertClose([expectedLoss, .. expectedSums], first.Totals, "loss and sums");
        Assert.Equal(first.Gradient, second.Gradient);
        Assert.Equal(first.Totals, second.Totals);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1000, 3)]
    public void Ppo_losses_match_float64_and_repeat_exactly(int rows, int offset)
    {
        var targets = Enumerable.Range(0, rows).Select(_ => _random.Next(3) == 0 ? -1 : 5).ToArray();
        var old = Numerics.RandomFloats(_random, rows, 2f);
        var moved = old.Select(v => v + (float)_random.NextDouble() - 0.5f).ToArray();
        var (signal, entropy) = (Numerics.RandomFloats(_random, rows, 2f), Numerics.RandomFloats(_random, rows, 3f));
        using var buffers = new KernelBuffers(device());
        var kernels = new PpoLossKernels(device());
        ulong t = buffers.Ints(targets), o = buffers.Floats(old, offset), mv = buffers.Floats(moved, offset), sg = buffers.Floats(signal, offset),
            en = buffers.Floats(entropy, offset);
        double tokens = rows + 5;
        float[] Policy()
        {
            ulong logProbGradient = buffers.Poisoned(rows, offset), entropyGradient = buffers.Poisoned(rows, offset);
            ulong loss = buffers.Floats([0f]), statistics = buffers.Floats(new float[PpoLosses.PolicyStatistics]);
            kernels.Policy(mv, en, o, sg, t, rows, 0.2, 0.01, tokens, logProbGradient, entropyGradient, loss, statistics);
            return [.. buffers.ReadFloats(logProbGradient, rows), .. buffers.ReadFloats(entropyGradient, rows), .. buffers.ReadFloats(loss, 1),
                .. buffers.ReadFloats(statistics, PpoLosses.PolicyStatistics)];
        }
        float[] Value()
        {
            ulong gradient = buffers.Poisoned(rows, offset), loss = buffers.Floats([0f]), statistics = buffers.Floats(new float[PpoLosses.ValueStatistics]);
            kernels.Value(mv, o, sg, t, rows, 0.2, 0.1, tokens, gradient, loss, statistics);
            return [.. buffers.ReadFloats(gradient, rows), .. buffers.ReadFloats(loss, 1), .. buffers.ReadFloats(statistics, PpoLosses.ValueStatistics)];
        }
        double[] D(float[] values) => Array.ConvertAll(values, v => (double)v);
        var policy = PpoLosses.Policy(D(moved), D(entropy), D(old), D(signal), targets, new PpoLossSettings(0.2, 0.01, tokens));
        var value = PpoLosses.Value(D(moved), D(old), D(signal), targets, new PpoLossSettings(0.2, 0.1, tokens));

        var (policyRun, valueRun) = (Policy(), Value());
        AssertClose([.. policy.LogProbGradient, .. policy.EntropyGradient, policy.LossSum, .. policy.Statistics], policyRun, "policy loss");
        AssertClose([.. value.ValueGradient, value.LossSum, .. value.Statistics], valueRun, "value loss");
        Assert.Equal(policyRun, Policy());
        Assert.Equal(valueRun, Value());
    }

    /// <summary>Each value within <see cref="Tolerance"/> of the largest magnitude expected (float32 outputs of float64 sums).</summary>
    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= Tolerance * scale, $"{what}, element {i}: {actual[i]} vs {expected[i]}");
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedLossKernelTests(KernelDevices devices) : LossKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaLossKernelTests(KernelDevices devices) : LossKernelTests(() => devices.Cuda);
