using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops.Contract;

/// <summary>
/// The forward op checks for backends of GPU-style kernels (ILGPU, the hand-written CUDA kernels), at ragged sizes
/// (not multiples of a GEMM or attention tile or of the warp). Sizes are smaller than the CPU backend's tests:
/// on a CPU these kernels run through emulated barriers (ILGPU's CPU accelerator, the CUDA emulator).
/// </summary>
public abstract class DeviceForwardOpTests(Func<Backend> backend)
{
    private ForwardOpChecks? _checks;

    private ForwardOpChecks Checks => _checks ??= new ForwardOpChecks(new BackendPair(backend()), new Random());

    [Theory]
    [InlineData(1, 1, 1, false, false)]
    [InlineData(7, 13, 5, false, true)]
    [InlineData(33, 17, 65, false, false)]
    [InlineData(65, 70, 31, true, false)]
    [InlineData(100, 37, 80, true, true)]
    public void MatMul_matches_reference(int m, int n, int k, bool transposeA, bool transposeB) =>
        Checks.MatMul_matches_reference(m, n, k, transposeA, transposeB);

    [Theory]
    [InlineData(17, 33, 9, false, true)]
    [InlineData(40, 24, 70, true, false)]
    [InlineData(9, 66, 17, true, true)]
    [InlineData(66, 5, 20, false, false)]
    public void MatMul_accumulates_into_existing_output(int m, int n, int k, bool transposeA, bool transposeB) =>
        Checks.MatMul_accumulates_into_existing_output(m, n, k, transposeA, transposeB);

    [Fact]
    public void MatMul_reads_and_writes_row_views_of_larger_tensors() => Checks.MatMul_reads_and_writes_row_views_of_larger_tensors();

    [Theory]
    [InlineData(1, 8)]
    [InlineData(5, 67)]
    [InlineData(33, 130)]
    [InlineData(3, 1025)]
    public void RmsNorm_matches_reference(int rows, int width) => Checks.RmsNorm_matches_reference(rows, width);

    [Theory]
    [InlineData(1, 8, false)]
    [InlineData(5, 67, true)]
    [InlineData(33, 130, false)]
    [InlineData(3, 1025, true)]
    public void AddRmsNorm_matches_reference(int rows, int width, bool inPlace) => Checks.AddRmsNorm_matches_reference(rows, width, inPlace);

    [Theory]
    [InlineData(1, 1, 4, 10000.0, false)]
    [InlineData(7, 3, 18, 10000.0, true)]
    [InlineData(37, 4, 64, 1e6, false)]
    [InlineData(5, 2, 128, 10000.0, true)]
    public void Rope_matches_reference(int tokens, int heads, int headDim, double theta, bool inverse) =>
        Checks.Rope_matches_reference(tokens, heads, headDim, theta, inverse);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1409)]
    [InlineData(16, 1000)]
    public void SwiGlu_and_Add_match_reference(int rows, int width) => Checks.SwiGlu_and_Add_match_reference(rows, width);

    [Fact]
    public void GatherRows_and_ScatterRows_move_rows_and_honour_minus_one() => Checks.GatherRows_and_ScatterRows_move_rows_and_honour_minus_one();

    [Theory]
    [InlineData(1, 1, 1, 1, 16, 16, null)]
    [InlineData(2, 5, 4, 2, 32, 83, 30)]   // a chunk at the end of a long context, sliding window
    [InlineData(2, 37, 4, 2, 16, 37, null)]
    [InlineData(1, 40, 8, 2, 64, 40, 17)]
    [InlineData(3, 21, 6, 3, 20, 21, 8)]   // head dim not a multiple of the 8 lanes of a row
    [InlineData(2, 9, 4, 1, 128, 9, 4)]
    public void Attention_matches_reference(int batch, int length, int queryHeads, int kvHeads, int headDim, int keyLength, int? window) =>
        Checks.Attention_matches_reference(batch, length, queryHeads, kvHeads, headDim, keyLength, window);

    [Fact]
    public void Attention_handles_permuted_and_empty_key_slots_like_a_rolling_cache() =>
        Checks.Attention_handles_permuted_and_empty_key_slots_like_a_rolling_cache();
}
