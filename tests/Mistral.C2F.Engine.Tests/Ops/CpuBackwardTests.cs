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
}
