using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Ops;

/// <summary>
/// Every forward kernel against the float64 reference on fresh random inputs, outputs poisoned with NaN, at
/// ragged sizes (not multiples of the 64×64 GEMM tile, the 16-row attention tile or the warp). Sizes are
/// smaller than the CPU backend's tests: ILGPU's CPU accelerator runs every group barrier through OS threads.
/// Tolerance: relative L2 error ≤ 1e-5.
/// </summary>
public abstract class ForwardOpChecks(Func<IlgpuBackend> backend)
{
    private const double Fp32Tolerance = 1e-5;
    private readonly Random _random = new();
    private BackendPair? _pair;

    private BackendPair Pair => _pair ??= new BackendPair(backend());

    [Theory]
    [InlineData(1, 1, 1, false, false)]
    [InlineData(7, 13, 5, false, true)]
    [InlineData(33, 17, 65, false, false)]
    [InlineData(65, 70, 31, true, false)]
    [InlineData(100, 37, 80, true, true)]
    public void MatMul_matches_reference(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var a = Pair.Input(Numerics.RandomFloats(_random, m * k), transposeA ? [k, m] : [m, k]);
        var b = Pair.Input(Numerics.RandomFloats(_random, k * n), transposeB ? [n, k] : [k, n]);
        var c = Pair.Output(m, n);
        Pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB);
        Pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB);
        Pair.AssertClose(c, Fp32Tolerance, $"matmul {m}x{n}x{k} tA={transposeA} tB={transposeB}");
    }

    [Theory]
    [InlineData(17, 33, 9, false, true)]
    [InlineData(40, 24, 70, true, false)]
    [InlineData(9, 66, 17, true, true)]
    [InlineData(66, 5, 20, false, false)]
    public void MatMul_accumulates_into_existing_output(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var a = Pair.Input(Numerics.RandomFloats(_random, m * k), transposeA ? [k, m] : [m, k]);
        var b = Pair.Input(Numerics.RandomFloats(_random, k * n), transposeB ? [n, k] : [k, n]);
        var c = Pair.Input(Numerics.RandomFloats(_random, m * n), m, n);
        Pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB, accumulate: true);
        Pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB, accumulate: true);
        Pair.AssertClose(c, Fp32Tolerance, $"accumulating matmul {m}x{n}x{k} tA={transposeA} tB={transposeB}");
    }

    [Fact]
    public void MatMul_reads_and_writes_row_views_of_larger_tensors()
    {
        var a = Pair.Input(Numerics.RandomFloats(_random, 20 * 7), 20, 7);
        var b = Pair.Input(Numerics.RandomFloats(_random, 7 * 9), 7, 9);
        var c = Pair.Input(Numerics.RandomFloats(_random, 30 * 9), 30, 9);
        Pair.Tested.MatMul(a.Tested.SliceRows(3, 11), b.Tested, c.Tested.SliceRows(17, 11));
        Pair.Reference.MatMul(a.Reference.SliceRows(3, 11), b.Reference, c.Reference.SliceRows(17, 11));
        Pair.AssertClose(c, Fp32Tolerance, "matmul on views");
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(5, 67)]
    [InlineData(33, 130)]
    [InlineData(3, 1025)]
    public void RmsNorm_matches_reference(int rows, int width)
    {
        var x = Pair.Input(Numerics.RandomFloats(_random, rows * width, 3f), rows, width);
        var w = Pair.Input(Numerics.RandomFloats(_random, width), width);
        var y = Pair.Output(rows, width);
        var inv = Pair.Output(rows);
        Pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, y.Tested, inv.Tested);
        Pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, y.Reference, inv.Reference);
        Pair.AssertClose(y, Fp32Tolerance, "rmsnorm output");
        Pair.AssertClose(inv, Fp32Tolerance, "rmsnorm inverse rms");
    }

    [Theory]
    [InlineData(1, 1, 4, 10000.0, false)]
    [InlineData(7, 3, 18, 10000.0, true)]
    [InlineData(37, 4, 64, 1e6, false)]
    [InlineData(5, 2, 128, 10000.0, true)]
    public void Rope_matches_reference(int tokens, int heads, int headDim, double theta, bool inverse)
    {
        var x = Pair.Input(Numerics.RandomFloats(_random, tokens * heads * headDim), tokens, heads * headDim);
        var pos = Pair.Ints(Enumerable.Range(0, tokens).Select(_ => _random.Next(0, 5000)).ToArray(), tokens);
        Pair.Tested.Rope(x.Tested, pos.Tested, headDim, theta, inverse);
        Pair.Reference.Rope(x.Reference, pos.Reference, headDim, theta, inverse);
        Pair.AssertClose(x, Fp32Tolerance, $"rope inverse={inverse}");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(16, 1000)]
    public void SwiGlu_and_Add_match_reference(int rows, int width)
    {
        var gate = Pair.Input(Numerics.RandomFloats(_random, rows * width, 6f), rows, width);
        var up = Pair.Input(Numerics.RandomFloats(_random, rows * width), rows, width);
        var output = Pair.Output(rows, width);
        Pair.Tested.SwiGlu(gate.Tested, up.Tested, output.Tested);
        Pair.Reference.SwiGlu(gate.Reference, up.Reference, output.Reference);
        Pair.AssertClose(output, Fp32Tolerance, "swiglu");

        var sum = Pair.Output(rows, width);
        Pair.Tested.Add(gate.Tested, up.Tested, sum.Tested);
        Pair.Reference.Add(gate.Reference, up.Reference, sum.Reference);
        Pair.AssertClose(sum, Fp32Tolerance, "add");

        Pair.Tested.Add(sum.Tested, up.Tested, sum.Tested); // in place, as the residual stream does
        Pair.Reference.Add(sum.Reference, up.Reference, sum.Reference);
        Pair.AssertClose(sum, Fp32Tolerance, "add in place");
    }

    [Fact]
    public void GatherRows_and_ScatterRows_move_rows_and_honour_minus_one()
    {
        var table = Pair.Input(Numerics.RandomFloats(_random, 11 * 5), 11, 5);
        var idx = Pair.Ints([3, -1, 10, 3, 0], 5);
        var gathered = Pair.Output(5, 5);
        Pair.Tested.GatherRows(table.Tested, idx.Tested, gathered.Tested);
        Pair.Reference.GatherRows(table.Reference, idx.Reference, gathered.Reference);
        Pair.AssertClose(gathered, 0, "gather");
        Assert.All(Pair.Tested.ToFloats(gathered.Tested).Skip(5).Take(5), v => Assert.Equal(0f, v));

        var target = Pair.Input(Numerics.RandomFloats(_random, 11 * 5), 11, 5);
        var slots = Pair.Ints([7, 2, -1, 9, 4], 5);
        Pair.Tested.ScatterRows(gathered.Tested, slots.Tested, target.Tested);
        Pair.Reference.ScatterRows(gathered.Reference, slots.Reference, target.Reference);
        Pair.AssertClose(target, 0, "scatter");
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 16, 16, null)]
    [InlineData(2, 5, 4, 2, 32, 83, 30)]   // a chunk at the end of a long context, sliding window
    [InlineData(2, 37, 4, 2, 16, 37, null)]
    [InlineData(1, 40, 8, 2, 64, 40, 17)]
    [InlineData(3, 21, 6, 3, 20, 21, 8)]   // head dim not a multiple of the 8 lanes of a row
    [InlineData(2, 9, 4, 1, 128, 9, 4)]
    public void Attention_matches_reference(int batch, int length, int queryHeads, int kvHeads, int headDim, int keyLength, int? window)
    {
        var spec = new AttentionSpec(queryHeads, kvHeads, headDim, window);
        var q = Pair.Input(Numerics.RandomFloats(_random, batch * length * queryHeads * headDim, 2f), batch, length, queryHeads * headDim);
        var k = Pair.Input(Numerics.RandomFloats(_random, batch * keyLength * kvHeads * headDim, 2f), batch, keyLength, kvHeads * headDim);
        var v = Pair.Input(Numerics.RandomFloats(_random, batch * keyLength * kvHeads * headDim), batch, keyLength, kvHeads * headDim);
        // Queries are the last `length` positions of a context of `keyLength` keys.
        var qPos = Pair.Ints(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(keyLength - length, length)).ToArray(), batch, length);
        var kPos = Pair.Ints(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(0, keyLength)).ToArray(), batch, keyLength);
        var output = Pair.Output(batch, length, queryHeads * headDim);
        var lse = Pair.Output(batch, queryHeads, length);
        Pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        Pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);
        Pair.AssertClose(output, Fp32Tolerance, "attention output");
        Pair.AssertClose(lse, Fp32Tolerance, "attention log-sum-exp");
    }

    [Fact]
    public void Attention_handles_permuted_and_empty_key_slots_like_a_rolling_cache()
    {
        // A ring of 8 slots holding positions 12..19 in rotated order plus two empty slots; one query sees nothing.
        var spec = new AttentionSpec(4, 2, 8, SlidingWindow: 6);
        int[] slots = [16, 17, 18, 19, -1, 13, 14, 15, -1, 12];
        var q = Pair.Input(Numerics.RandomFloats(_random, 3 * 4 * 8), 1, 3, 32);
        var k = Pair.Input(Numerics.RandomFloats(_random, slots.Length * 16), 1, slots.Length, 16);
        var v = Pair.Input(Numerics.RandomFloats(_random, slots.Length * 16), 1, slots.Length, 16);
        var output = Pair.Output(1, 3, 32);
        var lse = Pair.Output(1, 4, 3);
        var qPos = Pair.Ints([19, -1, 17], 1, 3);
        var kPos = Pair.Ints(slots, 1, slots.Length);
        Pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        Pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);
        Pair.AssertClose(output, Fp32Tolerance, "attention over a rotated cache");
        var testedLse = Pair.Tested.ToFloats(lse.Tested);
        Assert.All(new[] { 1, 4, 7, 10 }, i => Assert.Equal(float.NegativeInfinity, testedLse[i]));
    }
}
