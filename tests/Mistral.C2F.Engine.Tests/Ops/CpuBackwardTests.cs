using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>
/// Every float32 CPU backward kernel, AdamW and the gradient norm against the float64 reference, on fresh
/// random inputs at ragged sizes. Gradient outputs start from the same random values on both sides, so a
/// kernel that overwrites instead of accumulating fails. Tolerance: relative L2 error ≤ 1e-5.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class CpuBackwardTests : IDisposable
{
    private const double Fp32Tolerance = 1e-5;
    private readonly BackendPair _pair = new(new CpuBackend(2));
    private readonly Random _random = new();

    public void Dispose() => _pair.Dispose();

    private (Tensor Tested, Tensor Reference) Random(float scale, params int[] dims) =>
        _pair.Input(Numerics.RandomFloats(_random, new Shape(dims).ElementCount, scale), dims);

    [Fact]
    public void Zero_clears_float_and_int_tensors_and_only_the_rows_of_a_view()
    {
        var cpu = _pair.Tested;
        var floats = cpu.FromFloats(Numerics.RandomFloats(_random, 3 * 1000), 3, 1000);
        var before = cpu.ToFloats(floats);
        cpu.Zero(floats.SliceRows(1, 1));
        var after = cpu.ToFloats(floats);
        Assert.Equal(before.Take(1000), after.Take(1000));
        Assert.All(after.Skip(1000).Take(1000), value => Assert.Equal(0f, value));
        Assert.Equal(before.Skip(2000), after.Skip(2000));

        var big = cpu.FromFloats(Numerics.RandomFloats(_random, 700_001), 700_001);
        cpu.Zero(big);
        Assert.All(cpu.ToFloats(big), value => Assert.Equal(0f, value));

        var ints = cpu.FromInts([5, -1, 7], 3);
        cpu.Zero(ints);
        var values = new int[3];
        cpu.Download(ints, values);
        Assert.Equal([0, 0, 0], values);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    [InlineData(200_003)] // several parallel chunks, the last one partial
    public void SumOfSquares_matches_reference(int count)
    {
        var x = Random(3f, count);
        double tested = _pair.Tested.SumOfSquares(x.Tested), expected = _pair.Reference.SumOfSquares(x.Reference);
        Assert.True(Math.Abs(tested - expected) <= Fp32Tolerance * expected, $"sum of squares {tested} vs {expected}");
    }

    [Theory]
    [InlineData(6, 9, 5)]
    [InlineData(40, 7, 67)]
    [InlineData(300, 50, 300)]
    [InlineData(64, 3, 4100)]
    public void ScatterAddRows_accumulates_repeated_indices_and_skips_minus_one(int rows, int tableRows, int width)
    {
        // Many rows share a few destinations (tokens sharing an id); every fifth row is masked.
        var indices = Enumerable.Range(0, rows).Select(i => i % 5 == 4 ? -1 : _random.Next(tableRows)).ToArray();
        indices[0] = indices[1] = tableRows - 1;
        var source = Random(1f, rows, width);
        var idx = _pair.Ints(indices, rows);
        var table = Random(1f, tableRows, width);
        _pair.Tested.ScatterAddRows(source.Tested, idx.Tested, table.Tested);
        _pair.Reference.ScatterAddRows(source.Reference, idx.Reference, table.Reference);
        _pair.AssertClose(table, Fp32Tolerance, $"scatter-add {rows} rows into {tableRows}×{width}");
    }

    [Fact]
    public void ScatterAddRows_rejects_an_index_outside_the_table_before_writing()
    {
        var cpu = _pair.Tested;
        var table = cpu.FromFloats(Numerics.RandomFloats(_random, 6), 3, 2);
        var before = cpu.ToFloats(table);
        var error = Assert.Throws<IndexOutOfRangeException>(() =>
            cpu.ScatterAddRows(cpu.FromFloats(Numerics.RandomFloats(_random, 4), 2, 2), cpu.FromInts([1, 3], 2), table));
        Assert.Contains("row index 3", error.Message);
        Assert.Equal(before, cpu.ToFloats(table));
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(5, 67)]
    [InlineData(33, 512)]
    [InlineData(500, 200)] // several row groups, each with its own dw partial
    [InlineData(3, 4099)]
    public void RmsNormBackward_matches_reference(int rows, int width)
    {
        var x = Random(3f, rows, width);
        var w = Random(1f, width);
        var inv = _pair.Output(rows);
        _pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, _pair.Tested.Allocate(rows, width), inv.Tested);
        _pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, _pair.Reference.Allocate(rows, width), inv.Reference);
        var dy = Random(1f, rows, width);
        var (dx, dw) = (Random(1f, rows, width), Random(1f, width));
        _pair.Tested.RmsNormBackward(x.Tested, w.Tested, inv.Tested, dy.Tested, dx.Tested, dw.Tested);
        _pair.Reference.RmsNormBackward(x.Reference, w.Reference, inv.Reference, dy.Reference, dx.Reference, dw.Reference);
        _pair.AssertClose(dx, Fp32Tolerance, "rmsnorm d input");
        _pair.AssertClose(dw, Fp32Tolerance, "rmsnorm d weight");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(64, 4096)]
    public void SwiGluBackward_matches_reference(int rows, int width)
    {
        var gate = Random(6f, rows, width);
        var up = Random(1f, rows, width);
        var dOut = Random(1f, rows, width);
        var (dGate, dUp) = (Random(1f, rows, width), Random(1f, rows, width));
        _pair.Tested.SwiGluBackward(gate.Tested, up.Tested, dOut.Tested, dGate.Tested, dUp.Tested);
        _pair.Reference.SwiGluBackward(gate.Reference, up.Reference, dOut.Reference, dGate.Reference, dUp.Reference);
        _pair.AssertClose(dGate, Fp32Tolerance, "swiglu d gate");
        _pair.AssertClose(dUp, Fp32Tolerance, "swiglu d up");
    }

    [Theory]
    [InlineData(1, 7, true)]
    [InlineData(5, 1000, false)]
    [InlineData(37, 4099, true)]
    [InlineData(3, 32000, true)]
    public void TokenLogProbs_forward_and_backward_match_reference(int rows, int vocab, bool withEntropy)
    {
        // With a float32 log-sum-exp, 1 − p of a near-certain target is exact only to ~1e-7 absolute, which a
        // one-row, seven-token gradient would weigh against its own tiny norm; keep the small vocabulary's rows
        // away from one-hot. Large vocabularies cannot be near one-hot with logits in ±8.
        var logits = Random(vocab < 100 ? 2f : 8f, rows, vocab);
        var targets = Enumerable.Range(0, rows).Select(i => i % 4 == 1 ? -1 : _random.Next(vocab)).ToArray();
        targets[^1] = vocab - 1;
        var t = _pair.Ints(targets, rows);
        var (logProbs, lse) = (_pair.Output(rows), _pair.Output(rows));
        var entropy = withEntropy ? _pair.Output(rows) : default;
        _pair.Tested.TokenLogProbs(logits.Tested, t.Tested, logProbs.Tested, lse.Tested, entropy.Tested);
        _pair.Reference.TokenLogProbs(logits.Reference, t.Reference, logProbs.Reference, lse.Reference, entropy.Reference);
        _pair.AssertClose(logProbs, Fp32Tolerance, "log-probs");
        _pair.AssertClose(lse, Fp32Tolerance, "log-sum-exp");
        if (withEntropy) _pair.AssertClose(entropy, Fp32Tolerance, "entropy");

        var logProbGrad = Random(1f, rows);
        var entropyGrad = withEntropy ? Random(1f, rows) : default;
        var logitsGrad = Random(1e-3f, rows, vocab); // the gradient's scale: most of it is p ≈ 1/V
        _pair.Tested.TokenLogProbsBackward(logits.Tested, t.Tested, lse.Tested, logProbGrad.Tested, entropy.Tested, entropyGrad.Tested, logitsGrad.Tested);
        _pair.Reference.TokenLogProbsBackward(logits.Reference, t.Reference, lse.Reference, logProbGrad.Reference, entropy.Reference,
            entropyGrad.Reference, logitsGrad.Reference);
        _pair.AssertClose(logitsGrad, Fp32Tolerance, "d logits");
    }

    [Fact]
    public void TokenLogProbs_rejects_a_target_outside_the_vocabulary()
    {
        var cpu = _pair.Tested;
        var error = Assert.Throws<IndexOutOfRangeException>(() =>
            cpu.TokenLogProbs(cpu.FromFloats(new float[6], 2, 3), cpu.FromInts([0, 3], 2), cpu.Allocate(2), cpu.Allocate(2)));
        Assert.Contains("target token 3", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(100_003)] // parallel ranges whose ends are not whole vectors
    public void AdamW_matches_reference_over_several_steps(int count)
    {
        var parameter = Random(1f, count);
        var (first, second) = (_pair.Input(new float[count], count), _pair.Input(new float[count], count));
        for (int step = 1; step <= 4; step++)
        {
            var gradient = Random(1f, count);
            var adam = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step, GradientScale: 0.5f);
            _pair.Tested.AdamW(parameter.Tested, gradient.Tested, first.Tested, second.Tested, adam);
            _pair.Reference.AdamW(parameter.Reference, gradient.Reference, first.Reference, second.Reference, adam);
        }
        _pair.AssertClose(parameter, Fp32Tolerance, "adamw parameter");
        _pair.AssertClose(first, Fp32Tolerance, "adamw first moment");
        _pair.AssertClose(second, Fp32Tolerance, "adamw second moment");
    }

    /// <param name="paddingStep">Batch row b starts with b·paddingStep empty slots (position -1), and so do its queries: left padding.</param>
    [Theory]
    [InlineData(1, 1, 1, 1, 1, 16, null, 0)]
    [InlineData(2, 5, 83, 4, 2, 32, 30, 0)]      // a chunk at the end of a long context, sliding window
    [InlineData(2, 37, 37, 4, 2, 16, null, 3)]   // 4 (batch, kv head) pairs: one key stripe each
    [InlineData(1, 130, 130, 8, 2, 64, 17, 0)]   // 2 pairs: keys dealt in 2 stripes
    [InlineData(3, 70, 70, 6, 3, 20, 64, 5)]     // head dim not a multiple of the vector width
    [InlineData(2, 9, 9, 4, 1, 128, 4, 2)]
    [InlineData(1, 150, 200, 2, 1, 64, null, 0)] // 1 pair, 4 key blocks: 4 stripes
    public void AttentionBackward_matches_reference(int batch, int length, int keyLength, int queryHeads, int kvHeads, int headDim,
        int? window, int paddingStep)
    {
        int Position(int b, int slot) => slot < b * paddingStep ? -1 : slot - b * paddingStep;
        var queryPositions = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(keyLength - length, length).Select(s => Position(b, s)));
        var keyPositions = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(0, keyLength).Select(s => Position(b, s)));
        AssertAttentionBackward(new AttentionSpec(queryHeads, kvHeads, headDim, window), batch, queryPositions.ToArray(), keyPositions.ToArray(),
            $"attention backward B={batch} Sq={length} Sk={keyLength} H={queryHeads}/{kvHeads} D={headDim} W={window}");
    }

    [Fact]
    public void AttentionBackward_handles_permuted_and_empty_key_slots_like_a_rolling_cache()
    {
        // A ring holding positions 12..19 in rotated order plus two empty slots; three queries, one of which sees nothing.
        int[] slots = [16, 17, 18, 19, -1, 13, 14, 15, -1, 12];
        AssertAttentionBackward(new AttentionSpec(4, 2, 8, SlidingWindow: 6), 1, [18, 19, -1], slots, "attention backward over a rotated cache");
    }

    private void AssertAttentionBackward(AttentionSpec spec, int batch, int[] queryPositions, int[] keyPositions, string what)
    {
        int length = queryPositions.Length / batch, keyLength = keyPositions.Length / batch;
        int queryWidth = spec.QueryHeads * spec.HeadDim, kvWidth = spec.KvHeads * spec.HeadDim;
        var q = Random(2f, batch, length, queryWidth);
        var k = Random(2f, batch, keyLength, kvWidth);
        var v = Random(1f, batch, keyLength, kvWidth);
        var qPos = _pair.Ints(queryPositions, batch, length);
        var kPos = _pair.Ints(keyPositions, batch, keyLength);
        var output = _pair.Output(batch, length, queryWidth);
        var lse = _pair.Output(batch, spec.QueryHeads, length);
        _pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        _pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);

        var dOut = Random(1f, batch, length, queryWidth);
        var (dq, dk, dv) = (Random(1f, batch, length, queryWidth), Random(1f, batch, keyLength, kvWidth), Random(1f, batch, keyLength, kvWidth));
        _pair.Tested.AttentionBackward(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested,
            dOut.Tested, dq.Tested, dk.Tested, dv.Tested);
        _pair.Reference.AttentionBackward(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference,
            lse.Reference, dOut.Reference, dq.Reference, dk.Reference, dv.Reference);
        _pair.AssertClose(dq, Fp32Tolerance, $"{what}: dq");
        _pair.AssertClose(dk, Fp32Tolerance, $"{what}: dk");
        _pair.AssertClose(dv, Fp32Tolerance, $"{what}: dv");
    }
}
