using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops.Contract;

/// <summary>
/// Every forward kernel of a backend against the float64 reference on fresh random inputs, outputs poisoned
/// with NaN, at the ragged sizes each backend's tests pass in (not multiples of its tiles, groups or vectors).
/// Tolerance: relative L2 error ≤ 1e-5.
/// </summary>
public sealed class ForwardOpChecks(BackendPair pair, Random random)
{
    private const double Fp32Tolerance = 1e-5;

    public void MatMul_matches_reference(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var a = pair.Input(Numerics.RandomFloats(random, m * k), transposeA ? [k, m] : [m, k]);
        var b = pair.Input(Numerics.RandomFloats(random, k * n), transposeB ? [n, k] : [k, n]);
        var c = pair.Output(m, n);
        pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB);
        pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB);
        pair.AssertClose(c, Fp32Tolerance, $"matmul {m}x{n}x{k} tA={transposeA} tB={transposeB}");
    }

    public void MatMul_accumulates_into_existing_output(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var a = pair.Input(Numerics.RandomFloats(random, m * k), transposeA ? [k, m] : [m, k]);
        var b = pair.Input(Numerics.RandomFloats(random, k * n), transposeB ? [n, k] : [k, n]);
        var c = pair.Input(Numerics.RandomFloats(random, m * n), m, n);
        pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB, accumulate: true);
        pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB, accumulate: true);
        pair.AssertClose(c, Fp32Tolerance, $"accumulating matmul {m}x{n}x{k} tA={transposeA} tB={transposeB}");
    }

    public void MatMul_reads_and_writes_row_views_of_larger_tensors()
    {
        var a = pair.Input(Numerics.RandomFloats(random, 20 * 7), 20, 7);
        var b = pair.Input(Numerics.RandomFloats(random, 7 * 9), 7, 9);
        var c = pair.Input(Numerics.RandomFloats(random, 30 * 9), 30, 9);
        pair.Tested.MatMul(a.Tested.SliceRows(3, 11), b.Tested, c.Tested.SliceRows(17, 11));
        pair.Reference.MatMul(a.Reference.SliceRows(3, 11), b.Reference, c.Reference.SliceRows(17, 11));
        pair.AssertClose(c, Fp32Tolerance, "matmul on views");
    }

    public void RmsNorm_matches_reference(int rows, int width)
    {
        var x = pair.Input(Numerics.RandomFloats(random, rows * width, 3f), rows, width);
        var w = pair.Input(Numerics.RandomFloats(random, width), width);
        var y = pair.Output(rows, width);
        var inv = pair.Output(rows);
        pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, y.Tested, inv.Tested);
        pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, y.Reference, inv.Reference);
        pair.AssertClose(y, Fp32Tolerance, "rmsnorm output");
        pair.AssertClose(inv, Fp32Tolerance, "rmsnorm inverse rms");
    }

    /// <summary>The fused op against its definition on the reference (Add, then RmsNorm); in place, the sum overwrites a.</summary>
    public void AddRmsNorm_matches_reference(int rows, int width, bool inPlace)
    {
        var a = pair.Input(Numerics.RandomFloats(random, rows * width, 2f), rows, width);
        var b = pair.Input(Numerics.RandomFloats(random, rows * width, 2f), rows, width);
        var w = pair.Input(Numerics.RandomFloats(random, width), width);
        var sum = inPlace ? a : pair.Output(rows, width);
        var (y, inv) = (pair.Output(rows, width), pair.Output(rows));
        var aBefore = pair.Tested.ToFloats(a.Tested);
        pair.Tested.AddRmsNorm(a.Tested, b.Tested, w.Tested, 1e-5f, sum.Tested, y.Tested, inv.Tested);
        pair.Reference.Add(a.Reference, b.Reference, sum.Reference);
        pair.Reference.RmsNorm(sum.Reference, w.Reference, 1e-5f, y.Reference, inv.Reference);
        pair.AssertClose(sum, Fp32Tolerance, "add-rmsnorm sum");
        pair.AssertClose(y, Fp32Tolerance, "add-rmsnorm output");
        pair.AssertClose(inv, Fp32Tolerance, "add-rmsnorm inverse rms");
        if (!inPlace) Assert.Equal(aBefore, pair.Tested.ToFloats(a.Tested));
    }

    public void Rope_matches_reference(int tokens, int heads, int headDim, double theta, bool inverse)
    {
        var x = pair.Input(Numerics.RandomFloats(random, tokens * heads * headDim), tokens, heads * headDim);
        var pos = pair.Ints(Enumerable.Range(0, tokens).Select(_ => random.Next(0, 5000)).ToArray(), tokens);
        pair.Tested.Rope(x.Tested, pos.Tested, headDim, theta, inverse);
        pair.Reference.Rope(x.Reference, pos.Reference, headDim, theta, inverse);
        pair.AssertClose(x, Fp32Tolerance, $"rope inverse={inverse}");
    }

    /// <summary>Rows of consecutive positions from 0 with right padding (-1), as training and prefill batches hold them.</summary>
    public void Rope_over_sequences_matches_reference(int rows, int length, int heads, int headDim)
    {
        int tokens = rows * length;
        var x = pair.Input(Numerics.RandomFloats(random, tokens * heads * headDim), tokens, heads * headDim);
        var positions = Enumerable.Range(0, rows).SelectMany(row =>
        {
            int real = length - row % 3;
            return Enumerable.Range(0, length).Select(i => i < real ? i : -1);
        }).ToArray();
        var pos = pair.Ints(positions, tokens);
        pair.Tested.Rope(x.Tested, pos.Tested, headDim, 10000.0);
        pair.Reference.Rope(x.Reference, pos.Reference, headDim, 10000.0);
        pair.AssertClose(x, Fp32Tolerance, "rope over sequences");
    }

    public void SwiGlu_and_Add_match_reference(int rows, int width)
    {
        var gate = pair.Input(Numerics.RandomFloats(random, rows * width, 6f), rows, width);
        var up = pair.Input(Numerics.RandomFloats(random, rows * width), rows, width);
        var output = pair.Output(rows, width);
        pair.Tested.SwiGlu(gate.Tested, up.Tested, output.Tested);
        pair.Reference.SwiGlu(gate.Reference, up.Reference, output.Reference);
        pair.AssertClose(output, Fp32Tolerance, "swiglu");

        var sum = pair.Output(rows, width);
        pair.Tested.Add(gate.Tested, up.Tested, sum.Tested);
        pair.Reference.Add(gate.Reference, up.Reference, sum.Reference);
        pair.AssertClose(sum, Fp32Tolerance, "add");

        pair.Tested.Add(sum.Tested, up.Tested, sum.Tested); // in place, as the residual stream does
        pair.Reference.Add(sum.Reference, up.Reference, sum.Reference);
        pair.AssertClose(sum, Fp32Tolerance, "add in place");
    }

    public void GatherRows_and_ScatterRows_move_rows_and_honour_minus_one()
    {
        var table = pair.Input(Numerics.RandomFloats(random, 11 * 5), 11, 5);
        var idx = pair.Ints([3, -1, 10, 3, 0], 5);
        var gathered = pair.Output(5, 5);
        pair.Tested.GatherRows(table.Tested, idx.Tested, gathered.Tested);
        pair.Reference.GatherRows(table.Reference, idx.Reference, gathered.Reference);
        pair.AssertClose(gathered, 0, "gather");
        Assert.All(pair.Tested.ToFloats(gathered.Tested).Skip(5).Take(5), v => Assert.Equal(0f, v));

        var target = pair.Input(Numerics.RandomFloats(random, 11 * 5), 11, 5);
        var before = pair.Tested.ToFloats(target.Tested);
        var slots = pair.Ints([7, 2, -1, 9, 4], 5);
        pair.Tested.ScatterRows(gathered.Tested, slots.Tested, target.Tested);
        pair.Reference.ScatterRows(gathered.Reference, slots.Reference, target.Reference);
        pair.AssertClose(target, 0, "scatter");
        // Independently of the reference: gathered rows 0 and 3 land in rows 7 and 9; row 1, no row's slot, keeps its values.
        var after = pair.Tested.ToFloats(target.Tested);
        var source = pair.Tested.ToFloats(gathered.Tested);
        Assert.Equal(source.AsSpan(0, 5).ToArray(), after.AsSpan(7 * 5, 5).ToArray());
        Assert.Equal(before.AsSpan(1 * 5, 5).ToArray(), after.AsSpan(1 * 5, 5).ToArray());
        Assert.Equal(source.AsSpan(3 * 5, 5).ToArray(), after.AsSpan(9 * 5, 5).ToArray());
    }

    public void Attention_matches_reference(int batch, int length, int queryHeads, int kvHeads, int headDim, int keyLength, int? window)
    {
        var spec = new AttentionSpec(queryHeads, kvHeads, headDim, window);
        var q = pair.Input(Numerics.RandomFloats(random, batch * length * queryHeads * headDim, 2f), batch, length, queryHeads * headDim);
        var k = pair.Input(Numerics.RandomFloats(random, batch * keyLength * kvHeads * headDim, 2f), batch, keyLength, kvHeads * headDim);
        var v = pair.Input(Numerics.RandomFloats(random, batch * keyLength * kvHeads * headDim), batch, keyLength, kvHeads * headDim);
        // Queries are the last `length` positions of a context of `keyLength` keys.
        var qPos = pair.Ints(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(keyLength - length, length)).ToArray(), batch, length);
        var kPos = pair.Ints(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(0, keyLength)).ToArray(), batch, keyLength);
        var output = pair.Output(batch, length, queryHeads * headDim);
        var lse = pair.Output(batch, queryHeads, length);
        pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);
        pair.AssertClose(output, Fp32Tolerance, "attention output");
        pair.AssertClose(lse, Fp32Tolerance, "attention log-sum-exp");
    }

    /// <summary>
    /// A ring of 8 slots holding positions 12..19 in rotated order plus two empty slots: three queries with the
    /// log-sum-exp, one of which sees nothing, then one decode query at 19 without it (generation's call).
    /// </summary>
    public void Attention_handles_permuted_and_empty_key_slots_like_a_rolling_cache()
    {
        var spec = new AttentionSpec(4, 2, 8, SlidingWindow: 6);
        int[] slots = [16, 17, 18, 19, -1, 13, 14, 15, -1, 12];
        var k = pair.Input(Numerics.RandomFloats(random, slots.Length * 16), 1, slots.Length, 16);
        var v = pair.Input(Numerics.RandomFloats(random, slots.Length * 16), 1, slots.Length, 16);
        var kPos = pair.Ints(slots, 1, slots.Length);

        var q = pair.Input(Numerics.RandomFloats(random, 3 * 4 * 8), 1, 3, 32);
        var output = pair.Output(1, 3, 32);
        var lse = pair.Output(1, 4, 3);
        var qPos = pair.Ints([19, -1, 17], 1, 3);
        pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);
        pair.AssertClose(output, Fp32Tolerance, "attention over a rotated cache");
        var testedLse = pair.Tested.ToFloats(lse.Tested);
        Assert.All(new[] { 1, 4, 7, 10 }, i => Assert.Equal(float.NegativeInfinity, testedLse[i]));

        var decodeQuery = pair.Input(Numerics.RandomFloats(random, 4 * 8), 1, 1, 32);
        var decodeOutput = pair.Output(1, 1, 32);
        var decodePosition = pair.Ints([19], 1, 1);
        pair.Tested.Attention(decodeQuery.Tested, k.Tested, v.Tested, decodePosition.Tested, kPos.Tested, spec, decodeOutput.Tested);
        pair.Reference.Attention(decodeQuery.Reference, k.Reference, v.Reference, decodePosition.Reference, kPos.Reference, spec, decodeOutput.Reference);
        pair.AssertClose(decodeOutput, Fp32Tolerance, "decode attention over a rotated cache");
    }
}
