using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// Token log-probabilities, log-sum-exp, entropy and the backward against the float64 reference, at vocabularies of
/// 1000 and 32001 (odd: rows alternate their 16-byte alignment), masked targets, and an out-of-range target.
/// </summary>
public abstract class LogProbKernelTests(Func<IKernelDevice> device)
{
    private readonly Random _random = new(31337);

    [Theory]
    [InlineData(1, 1000, true, false)]
    [InlineData(7, 1000, false, false)]
    [InlineData(33, 1000, true, false)]
    [InlineData(7, 32001, true, false)]
    [InlineData(7, 1000, true, true)]
    [InlineData(7, 32001, true, true)]
    public void Forward_matches_reference(int rows, int vocab, bool withEntropy, bool bf16)
    {
        float[] logits = Logits(rows, vocab, bf16);
        int[] targets = Targets(rows, vocab);
        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        ulong logProbs = buffers.Poisoned(rows), lse = buffers.Poisoned(rows), entropy = withEntropy ? buffers.Poisoned(rows) : 0;
        new LogProbKernels(device(), faults).Forward(bf16 ? buffers.Bf16Values(logits) : buffers.Floats(logits), buffers.Ints(targets),
            logProbs, lse, entropy, rows, vocab, bf16 ? KernelStorage.Bf16 : KernelStorage.F32);
        faults.ThrowIfAny();

        using var reference = new ReferenceBackend();
        var (rLogProbs, rLse, rEntropy) = (reference.Allocate(rows), reference.Allocate(rows), reference.Allocate(rows));
        reference.TokenLogProbs(reference.FromFloats(logits, rows, vocab), reference.FromInts(targets, rows), rLogProbs, rLse, rEntropy);
        // Per-row values are float32 in both storages: the bf16 logits are exact inputs, so float32 accuracy holds.
        KernelAssert.Close(buffers.ReadFloats(logProbs, rows), reference.ToDoubles(rLogProbs), KernelAssert.F32Tolerance, "log-probs");
        KernelAssert.Close(buffers.ReadFloats(lse, rows), reference.ToDoubles(rLse), KernelAssert.F32Tolerance, "log-sum-exp");
        if (withEntropy)
            KernelAssert.Close(buffers.ReadFloats(entropy, rows), reference.ToDoubles(rEntropy), KernelAssert.F32Tolerance, "entropy");
    }

    [Theory]
    [InlineData(1, 1000, true, false)]
    [InlineData(7, 1000, false, false)]
    [InlineData(33, 1000, true, false)]
    [InlineData(7, 32001, true, false)]
    [InlineData(7, 1000, true, true)]
    [InlineData(5, 32001, false, true)]
    public void Backward_accumulates_reference_gradient(int rows, int vocab, bool withEntropy, bool bf16)
    {
        float[] logits = Logits(rows, vocab, bf16), logitsGrad = Numerics.RandomFloats(_random, rows * vocab, 1e-3f);
        if (bf16) logitsGrad = Bf16.Round(logitsGrad);
        float[] logProbGrad = Numerics.RandomFloats(_random, rows), entropyGrad = Numerics.RandomFloats(_random, rows);
        int[] targets = Targets(rows, vocab);
        using var reference = new ReferenceBackend();
        var (rLogits, rTargets) = (reference.FromFloats(logits, rows, vocab), reference.FromInts(targets, rows));
        var (rLogProbs, rLse, rEntropy) = (reference.Allocate(rows), reference.Allocate(rows), reference.Allocate(rows));
        reference.TokenLogProbs(rLogits, rTargets, rLogProbs, rLse, rEntropy);
        var rGrad = reference.FromFloats(logitsGrad, rows, vocab);
        reference.TokenLogProbsBackward(rLogits, rTargets, rLse, reference.FromFloats(logProbGrad, rows),
            withEntropy ? rEntropy : null, withEntropy ? reference.FromFloats(entropyGrad, rows) : null, rGrad);

        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        var kernels = new LogProbKernels(device(), faults);
        var storage = bf16 ? KernelStorage.Bf16 : KernelStorage.F32;
        ulong z = bf16 ? buffers.Bf16Values(logits) : buffers.Floats(logits), t = buffers.Ints(targets);
        ulong lse = buffers.Poisoned(rows), entropy = buffers.Poisoned(rows);
        kernels.Forward(z, t, buffers.Poisoned(rows), lse, entropy, rows, vocab, storage);
        ulong dz = bf16 ? buffers.Bf16Values(logitsGrad) : buffers.Floats(logitsGrad);
        kernels.Backward(z, t, lse, buffers.Floats(logProbGrad), withEntropy ? entropy : 0, withEntropy ? buffers.Floats(entropyGrad) : 0,
            dz, rows, vocab, storage);
        faults.ThrowIfAny();
        var actual = bf16 ? buffers.ReadBf16(dz, rows * vocab) : buffers.ReadFloats(dz, rows * vocab);
        KernelAssert.Close(actual, reference.ToDoubles(rGrad), bf16 ? KernelAssert.Bf16Tolerance : KernelAssert.F32Tolerance, "d(logits)");
    }

    [Fact]
    public void Target_outside_the_vocabulary_is_reported_and_never_read()
    {
        const int vocab = 1000;
        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        new LogProbKernels(device(), faults).Forward(buffers.Floats(Logits(2, vocab, false)), buffers.Ints([3, int.MaxValue]),
            buffers.Poisoned(2), buffers.Poisoned(2), 0, 2, vocab);
        var error = Assert.Throws<IndexOutOfRangeException>(faults.ThrowIfAny);
        Assert.StartsWith($"target token {int.MaxValue} outside the vocabulary of {vocab}", error.Message);
    }

    /// <summary>Logits spread like a language model's (±8), so that the softmax is far from uniform.</summary>
    private float[] Logits(int rows, int vocab, bool bf16)
    {
        var logits = Numerics.RandomFloats(_random, rows * vocab, 8);
        return bf16 ? Bf16.Round(logits) : logits;
    }

    /// <summary>Targets in the vocabulary, with every third row masked (−1).</summary>
    private int[] Targets(int rows, int vocab) =>
        Enumerable.Range(0, rows).Select(r => r % 3 == 1 ? -1 : _random.Next(vocab)).ToArray();
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedLogProbKernelTests(KernelDevices devices) : LogProbKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaLogProbKernelTests(KernelDevices devices) : LogProbKernelTests(() => devices.Cuda);
