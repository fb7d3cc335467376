using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Ops;

/// <summary>
/// Every backward kernel, AdamW, Zero and the gradient norm against the float64 reference, on fresh random
/// inputs at ragged sizes. Gradient outputs start from the same random values on both sides, so a kernel that
/// overwrites instead of accumulating fails. Tolerance: relative L2 error ≤ 1e-5.
/// </summary>
public abstract class BackwardOpChecks(Func<IlgpuBackend> backend)
{
    private const double Fp32Tolerance = 1e-5;
    private readonly Random _random = new();
    private BackendPair? _pair;

    private BackendPair Pair => _pair ??= new BackendPair(backend());

    private (Tensor Tested, Tensor Reference) Random(float scale, params int[] dims) =>
        Pair.Input(Numerics.RandomFloats(_random, new Shape(dims).ElementCount, scale), dims);

    [Fact]
    public void Zero_clears_float_and_int_tensors_and_only_the_rows_of_a_view()
    {
        var tested = Pair.Tested;
        var floats = tested.FromFloats(Numerics.RandomFloats(_random, 3 * 1000), 3, 1000);
        var before = tested.ToFloats(floats);
        tested.Zero(floats.SliceRows(1, 1));
        var after = tested.ToFloats(floats);
        Assert.Equal(before.Take(1000), after.Take(1000));
        Assert.All(after.Skip(1000).Take(1000), value => Assert.Equal(0f, value));
        Assert.Equal(before.Skip(2000), after.Skip(2000));

        var ints = tested.FromInts([5, -1, 7], 3);
        tested.Zero(ints);
        var values = new int[3];
        tested.Download(ints, values);
        Assert.Equal([0, 0, 0], values);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    [InlineData(200_003)] // many groups, the grid-stride tail partial
    public void SumOfSquares_matches_reference(int count)
    {
        var x = Random(3f, count);
        double tested = Pair.Tested.SumOfSquares(x.Tested), expected = Pair.Reference.SumOfSquares(x.Reference);
        Assert.True(Math.Abs(tested - expected) <= Fp32Tolerance * expected, $"sum of squares {tested} vs {expected}");
    }

    [Theory]
    [InlineData(6, 9, 5)]
    [InlineData(40, 7, 67)]
    [InlineData(150, 50, 300)]
    public void ScatterAddRows_accumulates_repeated_indices_and_skips_minus_one(int rows, int tableRows, int width)
    {
        // Many rows share a few destinations (tokens sharing an id); every fifth row is masked.
        var indices = Enumerable.Range(0, rows).Select(i => i % 5 == 4 ? -1 : _random.Next(tableRows)).ToArray();
        indices[0] = indices[1] = tableRows - 1;
        var source = Random(1f, rows, width);
        var idx = Pair.Ints(indices, rows);
        var table = Random(1f, tableRows, width);
        Pair.Tested.ScatterAddRows(source.Tested, idx.Tested, table.Tested);
        Pair.Reference.ScatterAddRows(source.Reference, idx.Reference, table.Reference);
        Pair.AssertClose(table, Fp32Tolerance, $"scatter-add {rows} rows into {tableRows}×{width}");
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(5, 67)]
    [InlineData(150, 40)] // three chunks of rows, each with its own dw partial
    [InlineData(3, 1025)]
    public void RmsNormBackward_matches_reference(int rows, int width)
    {
        var x = Random(3f, rows, width);
        var w = Random(1f, width);
        var inv = Pair.Output(rows);
        Pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, Pair.Tested.Allocate(rows, width), inv.Tested);
        Pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, Pair.Reference.Allocate(rows, width), inv.Reference);
        var dy = Random(1f, rows, width);
        var (dx, dw) = (Random(1f, rows, width), Random(1f, width));
        Pair.Tested.RmsNormBackward(x.Tested, w.Tested, inv.Tested, dy.Tested, dx.Tested, dw.Tested);
        Pair.Reference.RmsNormBackward(x.Reference, w.Reference, inv.Reference, dy.Reference, dx.Reference, dw.Reference);
        Pair.AssertClose(dx, Fp32Tolerance, "rmsnorm d input");
        Pair.AssertClose(dw, Fp32Tolerance, "rmsnorm d weight");

        Pair.Tested.RmsNormBackward(x.Tested, w.Tested, inv.Tested, dy.Tested, dx.Tested, weightGrad: null); // a frozen weight
        Pair.Reference.RmsNormBackward(x.Reference, w.Reference, inv.Reference, dy.Reference, dx.Reference, weightGrad: null);
        Pair.AssertClose(dx, Fp32Tolerance, "rmsnorm d input, frozen weight");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(16, 1000)]
    public void SwiGluBackward_matches_reference(int rows, int width)
    {
        var gate = Random(6f, rows, width);
        var up = Random(1f, rows, width);
        var dOut = Random(1f, rows, width);
        var (dGate, dUp) = (Random(1f, rows, width), Random(1f, rows, width));
        Pair.Tested.SwiGluBackward(gate.Tested, up.Tested, dOut.Tested, dGate.Tested, dUp.Tested);
        Pair.Reference.SwiGluBackward(gate.Reference, up.Reference, dOut.Reference, dGate.Reference, dUp.Reference);
        Pair.AssertClose(dGate, Fp32Tolerance, "swiglu d gate");
        Pair.AssertClose(dUp, Fp32Tolerance, "swiglu d up");
    }

    [Theory]
    [InlineData(1, 7, true)]
    [InlineData(5, 1000, false)]
    [InlineData(9, 4099, true)]
    [InlineData(2, 32000, true)]
    public void TokenLogProbs_forward_and_backward_match_reference(int rows, int vocab, bool withEntropy)
    {
        var logits = Random(8f, rows, vocab);
        var targets = Enumerable.Range(0, rows).Select(i => i % 4 == 1 ? -1 : _random.Next(vocab)).ToArray();
        targets[^1] = vocab - 1;
        var t = Pair.Ints(targets, rows);
        var (logProbs, lse) = (Pair.Output(rows), Pair.Output(rows));
        var entropy = withEntropy ? Pair.Output(rows) : default;
        Pair.Tested.TokenLogProbs(logits.Tested, t.Tested, logProbs.Tested, lse.Tested, entropy.Tested);
        Pair.Reference.TokenLogProbs(logits.Reference, t.Reference, logProbs.Reference, lse.Reference, entropy.Reference);
        Pair.AssertClose(logProbs, Fp32Tolerance, "log-probs");
        Pair.AssertClose(lse, Fp32Tolerance, "log-sum-exp");
        if (withEntropy) Pair.AssertClose(entropy, Fp32Tolerance, "entropy");

        var logProbGrad = Random(1f, rows);
        var entropyGrad = withEntropy ? Random(1f, rows) : default;
        var logitsGrad = Random(1e-3f, rows, vocab); // the gradient's scale: most of it is p ≈ 1/V
        Pair.Tested.TokenLogProbsBackward(logits.Tested, t.Tested, lse.Tested, logProbGrad.Tested, entropy.Tested, entropyGrad.Tested, logitsGrad.Tested);
        Pair.Reference.TokenLogProbsBackward(logits.Reference, t.Reference, lse.Reference, logProbGrad.Reference, entropy.Reference,
            entropyGrad.Reference, logitsGrad.Reference);
        Pair.AssertClose(logitsGrad, Fp32Tolerance, "d logits");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(100_003)]
    public void AdamW_matches_reference_over_several_steps(int count)
    {
        var parameter = Random(1f, count);
        var (first, second) = (Pair.Input(new float[count], count), Pair.Input(new float[count], count));
        for (int step = 1; step <= 4; step++)
        {
            var gradient = Random(1f, count);
            var adam = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step, GradientScale: 0.5f);
            Pair.Tested.AdamW(parameter.Tested, gradient.Tested, first.Tested, second.Tested, adam);
            Pair.Reference.AdamW(parameter.Reference, gradient.Reference, first.Reference, second.Reference, adam);
        }
        Pair.AssertClose(parameter, Fp32Tolerance, "adamw parameter");
        Pair.AssertClose(first, Fp32Tolerance, "adamw first moment");
        Pair.AssertClose(second, Fp32Tolerance, "adamw second moment");
    }

    /// <param name="paddingStep">Batch row b starts with b·paddingStep empty slots (position -1), and so do its queries: left padding.</param>
    [Theory]
    [InlineData(1, 1, 1, 1, 1, 16, null, 0)]
    [InlineData(2, 5, 83, 4, 2, 32, 30, 0)]     // a chunk at the end of a long context, sliding window: Sk ≠ Sq, offset queries
    [InlineData(2, 37, 37, 4, 2, 16, null, 3)]  // left padding
    [InlineData(1, 40, 40, 8, 2, 64, 17, 0)]    // GQA 4:1 sharing each key block
    [InlineData(3, 21, 21, 6, 3, 20, 12, 5)]    // head dim not a multiple of the 8 lanes of a row
    [InlineData(2, 9, 9, 4, 1, 128, 4, 2)]
    [InlineData(1, 30, 50, 2, 1, 64, null, 0)]
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
        var qPos = Pair.Ints(queryPositions, batch, length);
        var kPos = Pair.Ints(keyPositions, batch, keyLength);
        var output = Pair.Output(batch, length, queryWidth);
        var lse = Pair.Output(batch, spec.QueryHeads, length);
        Pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        Pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);

        var dOut = Random(1f, batch, length, queryWidth);
        var (dq, dk, dv) = (Random(1f, batch, length, queryWidth), Random(1f, batch, keyLength, kvWidth), Random(1f, batch, keyLength, kvWidth));
        Pair.Tested.AttentionBackward(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested,
            dOut.Tested, dq.Tested, dk.Tested, dv.Tested);
        Pair.Reference.AttentionBackward(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference,
            lse.Reference, dOut.Reference, dq.Reference, dk.Reference, dv.Reference);
        Pair.AssertClose(dq, Fp32Tolerance, $"{what}: dq");
        Pair.AssertClose(dk, Fp32Tolerance, $"{what}: dk");
        Pair.AssertClose(dv, Fp32Tolerance, $"{what}: dv");
    }
}
