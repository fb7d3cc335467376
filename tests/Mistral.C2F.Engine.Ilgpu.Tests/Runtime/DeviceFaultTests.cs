using Mistral.C2F.Engine.Ilgpu.Tests.Support;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Runtime;

/// <summary>
/// Kernels cannot throw: an index out of range is recorded on the device and thrown at the next download
/// (a synchronising call) with the op's usual message; the record is then cleared.
/// </summary>
[Trait("Backend", "ilgpu")]
public sealed class DeviceFaultTests(IlgpuBackends backends)
{
    private readonly IlgpuBackend _backend = backends.Cpu;

    [Fact]
    public void A_gather_index_outside_the_table_throws_at_the_next_download_and_then_clears()
    {
        using var table = _backend.FromFloats(new float[6], 3, 2);
        using var output = _backend.Allocate(2, 2);
        _backend.GatherRows(table, _backend.FromInts([0, 3], 2), output);
        var error = Assert.Throws<IndexOutOfRangeException>(() => _backend.ToFloats(output));
        Assert.Contains("GatherRows: row index 3 outside 0..2", error.Message);
        Assert.Equal(6, _backend.ToFloats(table).Length); // cleared: the next download succeeds
    }

    [Fact]
    public void A_scatter_add_index_outside_the_table_throws_at_the_next_synchronisation()
    {
        using var table = _backend.FromFloats(new float[6], 3, 2);
        _backend.ScatterAddRows(_backend.FromFloats(new float[4], 2, 2), _backend.FromInts([1, -7], 2), table);
        var error = Assert.Throws<IndexOutOfRangeException>(_backend.Synchronize);
        Assert.Contains("ScatterAddRows: row index -7", error.Message);
    }

    [Fact]
    public void A_target_outside_the_vocabulary_throws_at_the_next_sum_of_squares()
    {
        using var logits = _backend.FromFloats(new float[6], 2, 3);
        using var logProbs = _backend.Allocate(2);
        using var lse = _backend.Allocate(2);
        _backend.TokenLogProbs(logits, _backend.FromInts([0, 3], 2), logProbs, lse);
        var error = Assert.Throws<IndexOutOfRangeException>(() => _backend.SumOfSquares(logProbs));
        Assert.Contains("target token 3 outside the vocabulary of 3", error.Message);
    }
}
