using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops.Contract;

/// <summary>The backward op checks for backends of GPU-style kernels, at sizes smaller than the CPU backend's tests (see <see cref="DeviceForwardOpTests"/>).</summary>
public abstract class DeviceBackwardOpTests(Func<Backend> backend)
{
    private BackwardOpChecks? _checks;

    private BackwardOpChecks Checks => _checks ??= new BackwardOpChecks(new BackendPair(backend()), new Random());

    [Theory]
    [InlineData(1001)]
    public void Zero_clears_float_and_int_tensors_and_only_the_rows_of_a_view(int wholeLength) =>
        Checks.Zero_clears_float_and_int_tensors_and_only_the_rows_of_a_view(wholeLength);

    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    [InlineData(200_003)] // many groups, the grid-stride tail partial
    public void SumOfSquares_matches_reference(int count) => Checks.SumOfSquares_matches_reference(count);

    [Fact]
    public void SumOfSquares_over_many_tensors_matches_reference() =>
        Checks.SumOfSquares_over_many_tensors_matches_reference([1, 200_003, 5, 1001, 64]);

    [Theory]
    [InlineData(6, 9, 5)]
    [InlineData(40, 7, 67)]
    [InlineData(150, 50, 300)]
    public void ScatterAddRows_accumulates_repeated_indices_and_skips_minus_one(int rows, int tableRows, int width) =>
        Checks.ScatterAddRows_accumulates_repeated_indices_and_skips_minus_one(rows, tableRows, width);

    [Theory]
    [InlineData(700, 40, 300)]
    [InlineData(1030, 13, 67)]
    public void ScatterAddRows_equals_the_cpu_backend_bit_for_bit(int rows, int tableRows, int width) =>
        Checks.ScatterAddRows_equals_the_cpu_backend_bit_for_bit(rows, tableRows, width);

    [Theory]
    [InlineData(1, 8)]
    [InlineData(5, 67)]
    [InlineData(150, 40)] // three chunks of rows, each with its own dw partial
    [InlineData(3, 1025)]
    public void RmsNormBackward_matches_reference(int rows, int width) => Checks.RmsNormBackward_matches_reference(rows, width);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(16, 1000)]
    public void SwiGluBackward_matches_reference(int rows, int width) => Checks.SwiGluBackward_matches_reference(rows, width);

    [Theory]
    [InlineData(1, 7, true)]
    [InlineData(5, 1000, false)]
    [InlineData(9, 4099, true)]
    [InlineData(2, 32000, true)]
    public void TokenLogProbs_forward_and_backward_match_reference(int rows, int vocab, bool withEntropy) =>
        Checks.TokenLogProbs_forward_and_backward_match_reference(rows, vocab, withEntropy);

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(100_003)]
    public void AdamW_matches_reference_over_several_steps(int count) => Checks.AdamW_matches_reference_over_several_steps(count);

    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    public void Fill_writes_the_value_and_only_into_the_view(int count) => Checks.Fill_writes_the_value_and_only_into_the_view(count);

    [Theory]
    [InlineData(1, 7)]
    [InlineData(200_003, 1001)]
    public void AccumulateSum_matches_reference(int first, int second) => Checks.AccumulateSum_matches_reference(first, second);

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(300)] // more pairs than the kernel's 256 threads
    public void BradleyTerry_matches_reference(int pairs) => Checks.BradleyTerry_matches_reference(pairs);

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(1000)] // several rows per thread of the kernel's block
    public void PpoPolicyLoss_matches_reference(int rows) => Checks.PpoPolicyLoss_matches_reference(rows);

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(1000)]
    public void PpoValueLoss_matches_reference(int rows) => Checks.PpoValueLoss_matches_reference(rows);

    [Fact]
    public void GlobalNorm_over_many_tensors_matches_reference() =>
        Checks.GlobalNorm_over_many_tensors_matches_reference([1, 200_003, 5, 1001, 64]);

    [Fact]
    public void Guarded_AdamW_clips_by_the_device_norm_and_skips_non_finite_steps() =>
        Checks.Guarded_AdamW_clips_by_the_device_norm_and_skips_non_finite_steps([1, 4097, 33, 10_000, 7]);

    [Fact]
    public void AdamW_over_many_parameters_matches_reference_and_follows_a_changed_list() =>
        Checks.AdamW_over_many_parameters_matches_reference_and_follows_a_changed_list([1, 4097, 33, 10_000, 7]);

    /// <inheritdoc cref="BackwardOpChecks.AttentionBackward_matches_reference"/>
    [Theory]
    [InlineData(1, 1, 1, 1, 1, 16, null, 0)]
    [InlineData(2, 5, 83, 4, 2, 32, 30, 0)]     // a chunk at the end of a long context, sliding window: Sk ≠ Sq, offset queries
    [InlineData(2, 37, 37, 4, 2, 16, null, 3)]  // left padding
    [InlineData(1, 40, 40, 8, 2, 64, 17, 0)]    // GQA 4:1 sharing each key block
    [InlineData(3, 21, 21, 6, 3, 20, 12, 5)]    // head dim not a multiple of the 8 lanes of a row
    [InlineData(2, 9, 9, 4, 1, 128, 4, 2)]
    [InlineData(1, 30, 50, 2, 1, 64, null, 0)]
    public void AttentionBackward_matches_reference(int batch, int length, int keyLength, int queryHeads, int kvHeads, int headDim,
        int? window, int paddingStep) =>
        Checks.AttentionBackward_matches_reference(batch, length, keyLength, queryHeads, kvHeads, headDim, window, paddingStep);

    [Fact]
    public void AttentionBackward_handles_permuted_and_empty_key_slots_like_a_rolling_cache() =>
        Checks.AttentionBackward_handles_permuted_and_empty_key_slots_like_a_rolling_cache();
}
