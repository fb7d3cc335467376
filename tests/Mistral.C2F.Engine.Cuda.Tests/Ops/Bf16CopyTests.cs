using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Ops;

/// <summary>
/// The bf16 copies the tensor-core kernels read (<see cref="CudaPrecision.Bf16TensorCores"/>): an operand is rounded once
/// and read by every product after it; an upload or a kernel that writes the tensor makes the next product round it
/// again and see the new values; the multi-tensor AdamW writes the copy of a weight that products read in its own launch,
/// bit for bit what rounding the updated weight gives, and a guarded step that skips leaves the copy matching the
/// unchanged weight. Products are checked against the float64 product of operands that bf16 holds exactly (1e-5).
/// </summary>
public abstract class Bf16CopyTests(Func<IKernelDevice> device)
{
    private const string Rounding = "c2f_convert_f32_to_bf16";
    private const double RoundedOperandTolerance = 1e-5;
    private const int M = 37, N = 48, K = 40;
    private readonly Random _random = new();

    [Fact]
    public void An_operand_is_rounded_once_and_again_after_each_write()
    {
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        using var pair = new BackendPair(backend);
        var a = pair.Input(Bf16Values(M * K), M, K);
        var w = pair.Input(Bf16Values(N * K), N, K);
        var c = pair.Output(M, N);
        int Roundings()
        {
            int before = log.Launches(Rounding);
            backend.MatMul(a.Tested, w.Tested, c.Tested, transposeB: true);
            pair.Reference.MatMul(a.Reference, w.Reference, c.Reference, transposeB: true);
            pair.AssertClose(c, RoundedOperandTolerance, "product of the current operands");
            return log.Launches(Rounding) - before;
        }

        Assert.Equal(2, Roundings());
        Assert.Equal(0, Roundings());

        var uploaded = Bf16Values(N * K);
        backend.Upload(uploaded, w.Tested);
        pair.Reference.Upload(uploaded, w.Reference);
        Assert.Equal(1, Roundings());

        // A kernel's output: w = x + 0, values bf16 holds exactly.
        var x = pair.Input(Bf16Values(N * K), N, K);
        var zero = pair.Input(new float[N * K], N, K);
        backend.Add(x.Tested, zero.Tested, w.Tested);
        pair.Reference.Add(x.Reference, zero.Reference, w.Reference);
        Assert.Equal(1, Roundings());
        Assert.Equal(0, Roundings());
    }

    [Fact]
    public void AdamW_writes_the_copy_that_products_read_and_a_skipped_step_keeps_it()
    {
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        using var a = backend.FromFloats(Bf16Values(M * K), M, K);
        using var weight = backend.FromFloats(Bf16Values(N * K), N, K);
        using var gradient = backend.FromFloats(Numerics.RandomFloats(_random, N * K), N, K);
        using var first = backend.FromFloats(new float[N * K], N, K);
        using var second = backend.FromFloats(new float[N * K], N, K);
        using var loss = backend.FromFloats([1f], 1);
        using var norm = backend.FromFloats([1f], 1);
        using var c = backend.Allocate(new Shape(M, N), DType.F32);
        backend.MatMul(a, weight, c, transposeB: true);
        var parameters = new[] { new AdamWParameter(weight, gradient, first, second, Decays: true) };
        var guard = new AdamWGuard(loss, norm, MaxGradientNorm: 0f);

        var before = backend.ToFloats(weight);
        backend.AdamW(parameters, new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, Step: 1), guard);
        Assert.False(before.SequenceEqual(backend.ToFloats(weight)), "the update changed nothing");
        AssertProductReadsCurrentCopy(backend, log, a, weight, c);

        backend.Fill(loss, double.NaN);
        var kept = backend.ToFloats(weight);
        backend.AdamW(parameters, new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, Step: 2), guard);
        Assert.True(kept.SequenceEqual(backend.ToFloats(weight)), "a NaN loss changed the weight");
        AssertProductReadsCurrentCopy(backend, log, a, weight, c);
    }

    /// <summary>The product rounds nothing and gives the bits of the same product of fresh tensors holding the same values.</summary>
    private static void AssertProductReadsCurrentCopy(CudaBackend backend, LaunchCountingDevice log, Tensor a, Tensor weight, Tensor c)
    {
        int roundings = log.Launches(Rounding);
        backend.MatMul(a, weight, c, transposeB: true);
        Assert.Equal(roundings, log.Launches(Rounding));
        using var freshA = backend.FromFloats(backend.ToFloats(a), M, K);
        using var freshWeight = backend.FromFloats(backend.ToFloats(weight), N, K);
        using var freshC = backend.Allocate(new Shape(M, N), DType.F32);
        backend.MatMul(freshA, freshWeight, freshC, transposeB: true);
        Assert.Equal(backend.ToFloats(freshC), backend.ToFloats(c));
    }

    private float[] Bf16Values(int count) => Bf16TensorCoreTests.RoundedToBf16(Numerics.RandomFloats(_random, count));
}

/// <summary>On the CPU emulator.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedBf16CopyTests(KernelDevices devices) : Bf16CopyTests(() => devices.Emulator);

/// <summary>On a GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaBf16CopyTests(KernelDevices devices) : Bf16CopyTests(() => devices.Cuda);
