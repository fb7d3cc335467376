using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Ops.Contract;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>
/// The backward op checks on the float32 CPU backend (2 threads), at sizes that also split its work (key stripes,
/// row groups, parallel ranges), and the CPU backend's eager index checks.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class CpuBackwardTests : IDisposable
{
    private readonly BackendPair _pair = new(new CpuBackend(2));
    private readonly Random _random = new();
    private readonly BackwardOpChecks _checks;

    public CpuBackwardTests() => _checks = new BackwardOpChecks(_pair, _random);

    public void Dispose() => _pair.Dispose();

    [Theory]
    [InlineData(700_001)] // several parallel ranges
    public void Zero_clears_float_and_int_tensors_and_only_the_rows_of_a_view(int wholeLength) =>
        _checks.Zero_clears_float_and_int_tensors_and_only_the_rows_of_a_view(wholeLength);

    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    [InlineData(200_003)] // several parallel chunks, the last one partial
    public void SumOfSquares_matches_reference(int count) => _checks.SumOfSquares_matches_reference(count);

    [Fact]
    public void SumOfSquares_over_many_tensors_matches_reference() =>
        _checks.SumOfSquares_over_many_tensors_matches_reference([1, 200_003, 5, 1001, 64]);

    [Theory]
    [InlineData(6, 9, 5)]
    [InlineData(40, 7, 67)]
    [InlineData(300, 50, 300)]
    [InlineData(64, 3, 4100)]
    public void ScatterAddRows_accumulates_repeated_indices_and_skips_minus_one(int rows, int tableRows, int width) =>
        _checks.ScatterAddRows_accumulates_repeated_indices_and_skips_minus_one(rows, tableRows, width);

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
    public void RmsNormBackward_matches_reference(int rows, int width) => _checks.RmsNormBackward_matches_reference(rows, width);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(64, 4096)]
    public void SwiGluBackward_matches_reference(int rows, int width) => _checks.SwiGluBackward_matches_reference(rows, width);

    [Theory]
    [InlineData(1, 7, true)]
    [InlineData(5, 1000, false)]
    [InlineData(37, 4099, true)]
    [InlineData(3, 32000, true)]
    public void TokenLogProbs_forward_and_backward_match_reference(int rows, int vocab, bool withEntropy) =>
        _checks.TokenLogProbs_forward_and_backward_match_reference(rows, vocab, withEntropy);

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
    public void AdamW_matches_reference_over_several_steps(int count) => _checks.AdamW_matches_reference_over_several_steps(count);

    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    public void Fill_writes_the_value_and_only_into_the_view(int count) => _checks.Fill_writes_the_value_and_only_into_the_view(count);

    [Theory]
    [InlineData(1, 7)]
    [InlineData(200_003, 1001)]
    public void AccumulateSum_matches_reference(int first, int second) => _checks.AccumulateSum_matches_reference(first, second);

    [Theory]
    [InlineData(1)]
    [InlineData(300)]
    public void BradleyTerry_matches_reference(int pairs) => _checks.BradleyTerry_matches_reference(pairs);

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void PpoPolicyLoss_matches_reference(int rows) => _checks.PpoPolicyLoss_matches_reference(rows);

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void PpoValueLoss_matches_reference(int rows) => _checks.PpoValueLoss_matches_reference(rows);

    [Fact]
    public void GlobalNorm_over_many_tensors_matches_reference() =>
        _checks.GlobalNorm_over_many_tensors_matches_reference([1, 200_003, 5, 1001, 64]);

    [Fact]
    public void Guarded_AdamW_clips_by_the_device_norm_and_skips_non_finite_steps() =>
        _checks.Guarded_AdamW_clips_by_the_device_norm_and_skips_non_finite_steps([1, 4097, 33, 10_000, 7]);

    [Fact]
    public void AdamW_over_many_parameters_matches_reference_and_follows_a_changed_list() =>
        _checks.AdamW_over_many_parameters_matches_reference_and_follows_a_changed_list([1, 4097, 33, 10_000, 7]);

    /// <inheritdoc cref="BackwardOpChecks.AttentionBackward_matches_reference"/>
    [Theory]
    [InlineData(1, 1, 1, 1, 1, 16, null, 0)]
    [InlineData(2, 5, 83, 4, 2, 32, 30, 0)]      // a chunk at the end of a long context, sliding window
    [InlineData(2, 37, 37, 4, 2, 16, null, 3)]   // 4 (batch, kv head) pairs: one key stripe each
    [InlineData(1, 130, 130, 8, 2, 64, 17, 0)]   // 2 pairs: keys dealt in 2 stripes
    [InlineData(3, 70, 70, 6, 3, 20, 64, 5)]     // head dim not a multiple of the vector width
    [InlineData(2, 9, 9, 4, 1, 128, 4, 2)]
    [InlineData(1, 150, 200, 2, 1, 64, null, 0)] // 1 pair, 4 key blocks: 4 stripes
    public void AttentionBackward_matches_reference(int batch, int length, int keyLength, int queryHeads, int kvHeads, int headDim,
        int? window, int paddingStep) =>
        _checks.AttentionBackward_matches_reference(batch, length, keyLength, queryHeads, kvHeads, headDim, window, paddingStep);

    [Fact]
    public void AttentionBackward_handles_permuted_and_empty_key_slots_like_a_rolling_cache() =>
        _checks.AttentionBackward_handles_permuted_and_empty_key_slots_like_a_rolling_cache();
}
