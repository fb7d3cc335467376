using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Ops.Contract;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>The forward op checks on the float32 CPU backend (2 threads), at sizes that also split its work across threads.</summary>
[Trait("Backend", "cpu")]
public sealed class CpuOpTests : IDisposable
{
    private readonly BackendPair _pair = new(new CpuBackend(2));
    private readonly ForwardOpChecks _checks;

    public CpuOpTests() => _checks = new ForwardOpChecks(_pair, new Random());

    public void Dispose() => _pair.Dispose();

    [Theory]
    [InlineData(1, 1, 1, false, false)]
    [InlineData(7, 13, 5, false, true)]
    [InlineData(33, 17, 65, false, false)]
    [InlineData(65, 129, 31, true, false)]
    [InlineData(100, 37, 300, true, true)]
    [InlineData(129, 250, 257, false, true)]
    public void MatMul_matches_reference(int m, int n, int k, bool transposeA, bool transposeB) =>
        _checks.MatMul_matches_reference(m, n, k, transposeA, transposeB);

    [Theory]
    [InlineData(17, 33, 9, false, true)]
    [InlineData(40, 24, 70, true, false)]
    public void MatMul_accumulates_into_existing_output(int m, int n, int k, bool transposeA, bool transposeB) =>
        _checks.MatMul_accumulates_into_existing_output(m, n, k, transposeA, transposeB);

    [Fact]
    public void MatMul_reads_and_writes_row_views_of_larger_tensors() => _checks.MatMul_reads_and_writes_row_views_of_larger_tensors();

    [Theory]
    [InlineData(1, 8)]
    [InlineData(5, 67)]
    [InlineData(33, 512)]
    [InlineData(3, 4099)]
    public void RmsNorm_matches_reference(int rows, int width) => _checks.RmsNorm_matches_reference(rows, width);

    [Theory]
    [InlineData(1, 8, false)]
    [InlineData(5, 67, true)]
    [InlineData(33, 512, false)]
    [InlineData(3, 4099, true)]
    public void AddRmsNorm_matches_reference(int rows, int width, bool inPlace) => _checks.AddRmsNorm_matches_reference(rows, width, inPlace);

    [Theory]
    [InlineData(1, 1, 4, 10000.0, false)]
    [InlineData(7, 3, 18, 10000.0, false)]
    [InlineData(37, 4, 64, 1e6, false)]
    [InlineData(5, 2, 128, 10000.0, false)]
    public void Rope_matches_reference(int tokens, int heads, int headDim, double theta, bool inverse) =>
        _checks.Rope_matches_reference(tokens, heads, headDim, theta, inverse);

    /// <summary>Positions that repeat (a batch of sequences) take the angle table; scattered ones, above, are computed per token.</summary>
    [Theory]
    [InlineData(1, 1, 1, 4)]
    [InlineData(4, 9, 3, 18)]
    [InlineData(16, 64, 4, 32)]
    public void Rope_over_sequences_matches_reference(int rows, int length, int heads, int headDim) =>
        _checks.Rope_over_sequences_matches_reference(rows, length, heads, headDim);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(64, 4096)]
    public void SwiGlu_and_Add_match_reference(int rows, int width) => _checks.SwiGlu_and_Add_match_reference(rows, width);

    [Fact]
    public void GatherRows_and_ScatterRows_move_rows_and_honour_minus_one() => _checks.GatherRows_and_ScatterRows_move_rows_and_honour_minus_one();

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
    public void Attention_matches_reference(int batch, int length, int queryHeads, int kvHeads, int headDim, int keyLength, int? window) =>
        _checks.Attention_matches_reference(batch, length, queryHeads, kvHeads, headDim, keyLength, window);

    [Fact]
    public void Attention_handles_permuted_and_empty_key_slots_like_a_rolling_cache() =>
        _checks.Attention_handles_permuted_and_empty_key_slots_like_a_rolling_cache();

    /// <summary>
    /// Empty key slots hold whatever the memory held (a KV cache's ring before it fills, NaN included) and must reach no
    /// output: ten empty slots amid a key block that the queries see in part, six at the end of the keys; head dim 20
    /// is not a multiple of the kernel's eight accumulators.
    /// </summary>
    [Fact]
    public void Attention_never_reads_what_empty_key_slots_hold()
    {
        const int keyLength = 150, length = 13, headDim = 20, kvHeads = 2;
        var spec = new AttentionSpec(4, kvHeads, headDim, SlidingWindow: 100);
        var random = new Random();
        var slots = Enumerable.Range(0, keyLength).Select(j => j is >= 70 and < 80 || j >= 144 ? -1 : j).ToArray();
        float[] Rows(float scale)
        {
            var values = Numerics.RandomFloats(random, keyLength * kvHeads * headDim, scale);
            for (int j = 0; j < keyLength; j++)
                if (slots[j] < 0) values.AsSpan(j * kvHeads * headDim, kvHeads * headDim).Fill(float.NaN);
            return values;
        }
        var k = _pair.Input(Rows(2f), 1, keyLength, kvHeads * headDim);
        var v = _pair.Input(Rows(1f), 1, keyLength, kvHeads * headDim);
        var q = _pair.Input(Numerics.RandomFloats(random, length * 4 * headDim, 2f), 1, length, 4 * headDim);
        var qPos = _pair.Ints(Enumerable.Range(131, length).ToArray(), 1, length);
        var kPos = _pair.Ints(slots, 1, keyLength);
        var output = _pair.Output(1, length, 4 * headDim);
        var lse = _pair.Output(1, 4, length);
        _pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        _pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);
        _pair.AssertClose(output, 1e-5, "attention beside empty slots holding NaN");
        _pair.AssertClose(lse, 1e-5, "log-sum-exp beside empty slots holding NaN");
    }
}
