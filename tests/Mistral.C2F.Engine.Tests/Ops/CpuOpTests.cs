using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>Every float32 CPU kernel against the float64 reference, on fresh random inputs at ragged sizes.</summary>
[Trait("Backend", "cpu")]
public sealed class CpuOpTests : IDisposable
{
    private const double Fp32Tolerance = 1e-5;
    private readonly BackendPair _pair = new(new CpuBackend(2));
    private readonly Random _random = new();

    public void Dispose() => _pair.Dispose();

    [Theory]
    [InlineData(1, 1, 1, false, false)]
    [InlineData(7, 13, 5, false, true)]
    [InlineData(33, 17, 65, false, false)]
    [InlineData(65, 129, 31, true, false)]
    [InlineData(100, 37, 300, true, true)]
    [InlineData(129, 250, 257, false, true)]
    public void MatMul_matches_reference(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var a = _pair.Input(Numerics.RandomFloats(_random, m * k), transposeA ? [k, m] : [m, k]);
        var b = _pair.Input(Numerics.RandomFloats(_random, k * n), transposeB ? [n, k] : [k, n]);
        var c = _pair.Output(m, n);
        _pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB);
        _pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB);
        _pair.AssertClose(c, Fp32Tolerance, $"matmul {m}x{n}x{k} tA={transposeA} tB={transposeB}");
    }

    [Theory]
    [InlineData(17, 33, 9, false, true)]
    [InlineData(40, 24, 70, true, false)]
    public void MatMul_accumulates_into_existing_output(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var a = _pair.Input(Numerics.RandomFloats(_random, m * k), transposeA ? [k, m] : [m, k]);
        var b = _pair.Input(Numerics.RandomFloats(_random, k * n), transposeB ? [n, k] : [k, n]);
        var c = _pair.Input(Numerics.RandomFloats(_random, m * n), m, n);
        _pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB, accumulate: true);
        _pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB, accumulate: true);
        _pair.AssertClose(c, Fp32Tolerance, "accumulating matmul");
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(5, 67)]
    [InlineData(33, 512)]
    [InlineData(3, 4099)]
    public void RmsNorm_matches_reference(int rows, int width)
    {
        var x = _pair.Input(Numerics.RandomFloats(_random, rows * width, 3f), rows, width);
        var w = _pair.Input(Numerics.RandomFloats(_random, width), width);
        var y = _pair.Output(rows, width);
        var inv = _pair.Output(rows);
        _pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, y.Tested, inv.Tested);
        _pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, y.Reference, inv.Reference);
        _pair.AssertClose(y, Fp32Tolerance, "rmsnorm output");
        _pair.AssertClose(inv, Fp32Tolerance, "rmsnorm inverse rms");
    }

    [Theory]
    [InlineData(1, 1, 4, 10000.0)]
    [InlineData(7, 3, 18, 10000.0)]
    [InlineData(37, 4, 64, 1e6)]
    [InlineData(5, 2, 128, 10000.0)]
    public void Rope_matches_reference(int tokens, int heads, int headDim, double theta)
    {
        var x = _pair.Input(Numerics.RandomFloats(_random, tokens * heads * headDim), tokens, heads * headDim);
        var positions = Enumerable.Range(0, tokens).Select(_ => _random.Next(0, 5000)).ToArray();
        var pos = _pair.Ints(positions, tokens);
        _pair.Tested.Rope(x.Tested, pos.Tested, headDim, theta);
        _pair.Reference.Rope(x.Reference, pos.Reference, headDim, theta);
        _pair.AssertClose(x, Fp32Tolerance, "rope");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(64, 4096)]
    public void SwiGlu_and_Add_match_reference(int rows, int width)
    {
        var gate = _pair.Input(Numerics.RandomFloats(_random, rows * width, 6f), rows, width);
        var up = _pair.Input(Numerics.RandomFloats(_random, rows * width), rows, width);
        var output = _pair.Output(rows, width);
        _pair.Tested.SwiGlu(gate.Tested, up.Tested, output.Tested);
        _pair.Reference.SwiGlu(gate.Reference, up.Reference, output.Reference);
        _pair.AssertClose(output, Fp32Tolerance, "swiglu");

        var sum = _pair.Output(rows, width);
        _pair.Tested.Add(gate.Tested, up.Tested, sum.Tested);
        _pair.Reference.Add(gate.Reference, up.Reference, sum.Reference);
        _pair.AssertClose(sum, Fp32Tolerance, "add");
    }

    [Fact]
    public void GatherRows_and_ScatterRows_move_rows_and_honour_minus_one()
    {
        var table = _pair.Input(Numerics.RandomFloats(_random, 11 * 5), 11, 5);
        var idx = _pair.Ints([3, -1, 10, 3, 0], 5);
        var gathered = _pair.Output(5, 5);
        _pair.Tested.GatherRows(table.Tested, idx.Tested, gathered.Tested);
        _pair.Reference.GatherRows(table.Reference, idx.Reference, gathered.Reference);
        _pair.AssertClose(gathered, 0, "gather");
        Assert.All(_pair.Tested.ToFloats(gathered.Tested).Skip(5).Take(5), v => Assert.Equal(0f, v));

        var target = _pair.Input(Numerics.RandomFloats(_random, 11 * 5), 11, 5);
        var before = _pair.Tested.ToFloats(target.Tested);
        _pair.Tested.ScatterRows(gathered.Tested, _pair.Tested.FromInts([7, 2, -1, 9, 4], 5), target.Tested);
        var after = _pair.Tested.ToFloats(target.Tested);
        var source = _pair.Tested.ToFloats(gathered.Tested);
        Assert.Equal(source.AsSpan(0, 5).ToArray(), after.AsSpan(7 * 5, 5).ToArray());
        Assert.Equal(before.AsSpan(1 * 5, 5).ToArray(), after.AsSpan(1 * 5, 5).ToArray());
        Assert.Equal(source.AsSpan(3 * 5, 5).ToArray(), after.AsSpan(9 * 5, 5).ToArray());
    }

    [Fact]
    public void GatherRows_rejects_an_index_outside_the_table()
    {
        var table = _pair.Tested.FromFloats(new float[6], 3, 2);
        var output = _pair.Tested.Allocate(1, 2);
        var error = Assert.Throws<IndexOutOfRangeException>(() => _pair.Tested.GatherRows(table, _pair.Tested.FromInts([3], 1), output));
        Assert.Contains("row index 3", error.Message);
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 16, 16, null)]
    [InlineData(2, 5, 4, 2, 32, 83, 30)]
    [InlineData(2, 37, 4, 2, 16, 37, null)]
    [InlineData(1, 130, 8, 2, 64, 130, 17)]
    [InlineData(3, 70, 6, 3, 20, 70, 64)]
    [InlineData(2, 9, 4, 1, 128, 9, 4)]
    public void Attention_matches_reference(int batch, int length, int queryHeads, int kvHeads, int headDim, int keyLength, int? window)
    {
        var spec = new AttentionSpec(queryHeads, kvHeads, headDim, window);
        var q = _pair.Input(Numerics.RandomFloats(_random, batch * length * queryHeads * headDim, 2f), batch, length, queryHeads * headDim);
        var k = _pair.Input(Numerics.RandomFloats(_random, batch * keyLength * kvHeads * headDim, 2f), batch, keyLength, kvHeads * headDim);
        var v = _pair.Input(Numerics.RandomFloats(_random, batch * keyLength * kvHeads * headDim), batch, keyLength, kvHeads * headDim);
        // Queries are the last `length` positions of a context of `keyLength` keys.
        var qPos = _pair.Ints(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(keyLength - length, length)).ToArray(), batch, length);
        var kPos = _pair.Ints(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(0, keyLength)).ToArray(), batch, keyLength);
        var output = _pair.Output(batch, length, queryHeads * headDim);
        var lse = _pair.Output(batch, queryHeads, length);
        _pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        _pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);
        _pair.AssertClose(output, Fp32Tolerance, "attention output");
        _pair.AssertClose(lse, Fp32Tolerance, "attention log-sum-exp");
    }

    [Fact]
    public void Attention_handles_permuted_and_empty_key_slots_like_a_rolling_cache()
    {
        // A ring of 8 slots holding positions 12..19 in rotated order plus two empty slots, one decode query at 19.
        var spec = new AttentionSpec(4, 2, 8, SlidingWindow: 6);
        int[] slots = [16, 17, 18, 19, -1, 13, 14, 15, -1, 12];
        var q = _pair.Input(Numerics.RandomFloats(_random, 4 * 8), 1, 1, 32);
        var k = _pair.Input(Numerics.RandomFloats(_random, slots.Length * 16), 1, slots.Length, 16);
        var v = _pair.Input(Numerics.RandomFloats(_random, slots.Length * 16), 1, slots.Length, 16);
        var output = _pair.Output(1, 1, 32);
        var qPos = _pair.Ints([19], 1, 1);
        var kPos = _pair.Ints(slots, 1, slots.Length);
        _pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested);
        _pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference);
        _pair.AssertClose(output, Fp32Tolerance, "attention over a rotated cache");
    }
}
