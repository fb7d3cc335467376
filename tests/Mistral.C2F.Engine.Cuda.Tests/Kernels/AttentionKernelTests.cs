using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// The float32 attention kernels against the float64 <see cref="ReferenceBackend"/>: fresh random inputs, outputs
/// poisoned with NaN, key and value rows of empty cache slots NaN too (they must never be read into a result),
/// gradients accumulated onto random values. Shapes are those of the op contract checks (ForwardOpChecks,
/// BackwardOpChecks) plus the largest head-dim bucket, ragged everywhere: rows not multiples of the 16-row tile,
/// keys not multiples of the 32-key block, head dims not multiples of the 32 lanes. Each comparison writes its
/// measured relative and max-abs error to the test output (KernelAssert).
/// </summary>
public abstract class AttentionKernelTests(Func<IKernelDevice> device)
{
    private readonly Random _random = new();

    private IKernelDevice Device => device();

    [Theory]
    [InlineData(1, 1, 1, 1, 16, 16, null)]
    [InlineData(2, 5, 4, 2, 32, 83, 30)]   // a chunk at the end of a long context, sliding window
    [InlineData(2, 37, 4, 2, 16, 37, null)]
    [InlineData(1, 40, 8, 2, 64, 40, 17)]  // GQA 4:1 sharing each key block
    [InlineData(3, 21, 6, 3, 20, 21, 8)]   // head dim not a multiple of the 32 lanes
    [InlineData(2, 9, 4, 1, 128, 9, 4)]
    [InlineData(1, 19, 2, 2, 256, 45, null)]
    [InlineData(1, 7, 2, 1, 200, 70, 33)]
    public void Forward_matches_reference(int batch, int length, int queryHeads, int kvHeads, int headDim, int keyLength, int? window) =>
        AssertAttention(new AttentionSpec(queryHeads, kvHeads, headDim, window), batch, LeftPadded(batch, length, keyLength, 0),
            $"B={batch} Sq={length} Sk={keyLength} H={queryHeads}/{kvHeads} D={headDim} W={window}", backward: false);

    /// <param name="paddingStep">Batch row b starts with b·paddingStep empty slots (position -1), and so do its queries.</param>
    [Theory]
    [InlineData(1, 1, 1, 1, 1, 16, null, 0)]
    [InlineData(2, 5, 83, 4, 2, 32, 30, 0)]     // a chunk at the end of a long context, sliding window: Sk ≠ Sq
    [InlineData(2, 37, 37, 4, 2, 16, null, 3)]  // left padding
    [InlineData(1, 40, 40, 8, 2, 64, 17, 0)]    // GQA 4:1
    [InlineData(3, 21, 21, 6, 3, 20, 12, 5)]
    [InlineData(2, 9, 9, 4, 1, 128, 4, 2)]
    [InlineData(1, 30, 50, 2, 1, 64, null, 0)]
    [InlineData(2, 70, 100, 3, 1, 24, 10, 7)]   // many row tiles and key blocks that see nothing of each other
    [InlineData(1, 19, 45, 2, 2, 256, null, 0)]
    public void Backward_matches_reference(int batch, int length, int keyLength, int queryHeads, int kvHeads, int headDim,
        int? window, int paddingStep) =>
        AssertAttention(new AttentionSpec(queryHeads, kvHeads, headDim, window), batch, LeftPadded(batch, length, keyLength, paddingStep),
            $"B={batch} Sq={length} Sk={keyLength} H={queryHeads}/{kvHeads} D={headDim} W={window} pad={paddingStep}", backward: true);

    /// <summary>
    /// A ring of 8 slots holding positions 12..19 in rotated order plus two empty slots: queries with the
    /// log-sum-exp, one of which sees nothing (-inf, zero output), then one decode query at 19 without it.
    /// </summary>
    [Fact]
    public void Permuted_and_empty_key_slots_of_a_rolling_cache()
    {
        int[] slots = [16, 17, 18, 19, -1, 13, 14, 15, -1, 12];
        var spec = new AttentionSpec(4, 2, 8, SlidingWindow: 6);
        AssertAttention(spec, 1, ([19, -1, 17], slots), "rotated cache", backward: false);
        AssertAttention(spec, 1, ([18, 19, -1], slots), "rotated cache, unaligned rows", backward: true, offset: 1);
        AssertAttention(spec, 1, ([19], slots), "decode over a rotated cache", backward: false, withLogSumExp: false);
    }

    /// <summary>
    /// A shuffled ring of 64 positions and 6 empty slots over three key blocks (block skipping by position ranges), with
    /// rows aligned (float4 staging) and one float past alignment (scalar staging).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_shuffled_ring_spanning_several_key_blocks(int offset)
    {
        var slots = Enumerable.Range(0, 70).Select(i => i < 64 ? 100 + i : -1).ToArray();
        _random.Shuffle(slots);
        AssertAttention(new AttentionSpec(4, 2, 48, SlidingWindow: 50), 1, ([160, 161, 162, 163, -1, 120], slots), $"shuffled ring, offset {offset}",
            backward: true, offset: offset);
    }

    [Fact]
    public void Head_dims_past_the_largest_bucket_are_refused()
    {
        var operands = new AttentionOperands(0, 0, 0, 0, 0, 1, 1, 1);
        Assert.Throws<ArgumentException>(() => new AttentionKernels(Device).Forward(operands, new AttentionSpec(1, 1, 257, null), 0));
    }

    /// <summary>Positions of queries that are the last `length` of `keyLength` slots, batch row b left-padded by b·step slots.</summary>
    private static (int[] Queries, int[] Keys) LeftPadded(int batch, int length, int keyLength, int step)
    {
        int Position(int b, int slot) => slot < b * step ? -1 : slot - b * step;
        var queries = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(keyLength - length, length).Select(s => Position(b, s)));
        var keys = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(0, keyLength).Select(s => Position(b, s)));
        return (queries.ToArray(), keys.ToArray());
    }

    /// <param name="offset">Float tensors start this many elements past an aligned allocation: 1 takes the scalar staging path.</param>
    private void AssertAttention(AttentionSpec spec, int batch, (int[] Queries, int[] Keys) positions, string what, bool backward,
        bool withLogSumExp = true, int offset = 0)
    {
        int length = positions.Queries.Length / batch, keyLength = positions.Keys.Length / batch;
        int queryWidth = spec.QueryHeads * spec.HeadDim, kvWidth = spec.KvHeads * spec.HeadDim, statistics = batch * spec.QueryHeads * length;
        var q = Numerics.RandomFloats(_random, batch * length * queryWidth, 2f);
        var k = KeyRows(positions.Keys, kvWidth, 2f);
        var v = KeyRows(positions.Keys, kvWidth, 1f);

        using var memory = new KernelBuffers(Device);
        var kernels = new AttentionKernels(Device);
        var operands = new AttentionOperands(memory.Floats(q, offset), memory.Floats(k, offset), memory.Floats(v, offset),
            memory.Ints(positions.Queries), memory.Ints(positions.Keys), batch, length, keyLength);
        ulong output = memory.Poisoned(q.Length, offset), logSumExp = withLogSumExp ? memory.Poisoned(statistics) : 0;
        kernels.Forward(operands, spec, output, logSumExp);

        using var reference = new ReferenceBackend();
        var refQ = reference.FromFloats(q, batch, length, queryWidth);
        var refK = reference.FromFloats(k, batch, keyLength, kvWidth);
        var refV = reference.FromFloats(v, batch, keyLength, kvWidth);
        var refQueryPositions = reference.FromInts(positions.Queries, batch, length);
        var refKeyPositions = reference.FromInts(positions.Keys, batch, keyLength);
        var refOutput = reference.FromFloats(new float[q.Length], batch, length, queryWidth);
        var refLogSumExp = reference.FromFloats(new float[statistics], batch, spec.QueryHeads, length);
        reference.Attention(refQ, refK, refV, refQueryPositions, refKeyPositions, spec, refOutput, refLogSumExp);

        KernelAssert.Close(memory.ReadFloats(output, q.Length), reference.ToDoubles(refOutput), KernelAssert.F32Tolerance, $"{what}: output");
        if (withLogSumExp) KernelAssert.LogSumExp(memory.ReadFloats(logSumExp, statistics), reference.ToDoubles(refLogSumExp), $"{what}: log-sum-exp");
        if (!backward) return;

        var outputGrad = Numerics.RandomFloats(_random, q.Length);
        var (dq, dk, dv) = (Numerics.RandomFloats(_random, q.Length), Numerics.RandomFloats(_random, k.Length), Numerics.RandomFloats(_random, k.Length));
        ulong deviceDq = memory.Floats(dq, offset), deviceDk = memory.Floats(dk, offset), deviceDv = memory.Floats(dv, offset);
        kernels.Backward(operands, spec, output, logSumExp, memory.Floats(outputGrad, offset), deviceDq, deviceDk, deviceDv);

        var (refDq, refDk, refDv) = (reference.FromFloats(dq, batch, length, queryWidth), reference.FromFloats(dk, batch, keyLength, kvWidth),
            reference.FromFloats(dv, batch, keyLength, kvWidth));
        reference.AttentionBackward(refQ, refK, refV, refQueryPositions, refKeyPositions, spec, refOutput, refLogSumExp,
            reference.FromFloats(outputGrad, batch, length, queryWidth), refDq, refDk, refDv);
        KernelAssert.Close(memory.ReadFloats(deviceDq, dq.Length), reference.ToDoubles(refDq), KernelAssert.F32Tolerance, $"{what}: dq");
        KernelAssert.Close(memory.ReadFloats(deviceDk, dk.Length), reference.ToDoubles(refDk), KernelAssert.F32Tolerance, $"{what}: dk");
        KernelAssert.Close(memory.ReadFloats(deviceDv, dv.Length), reference.ToDoubles(refDv), KernelAssert.F32Tolerance, $"{what}: dv");
    }

    /// <summary>Random key or value rows, NaN in empty slots (position -1): a free cache slot holds anything.</summary>
    private float[] KeyRows(int[] keyPositions, int width, float scale)
    {
        var rows = Numerics.RandomFloats(_random, keyPositions.Length * width, scale);
        for (int slot = 0; slot < keyPositions.Length; slot++)
            if (keyPositions[slot] < 0) rows.AsSpan(slot * width, width).Fill(float.NaN);
        return rows;
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedAttentionKernelTests(KernelDevices devices) : AttentionKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaAttentionKernelTests(KernelDevices devices) : AttentionKernelTests(() => devices.Cuda);
