using Mistral.C2F.Rlhf.Ppo;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class ResponseLayoutTests
{
    private const int Eos = 2;

    [Fact]
    public void A_row_ends_at_its_first_eos_inclusive_or_fills_the_width()
    {
        // Row 0 stops at EOS in slot 1 and is padded with EOS (pad id = EOS, as Mistral's tokenizer often has it);
        // row 1 generated no EOS; row 2 generated EOS first.
        int[] tokens = [7, Eos, Eos, Eos, 5, 6, 7, 8, Eos, 0, 0, 0];
        var layout = ResponseLayout.FromTokens(tokens, width: 4, eosTokenId: Eos);

        Assert.Equal([2, 4, 1], layout.Lengths);
        Assert.Equal(7, layout.TokenCount);
        Assert.Equal(12, layout.Slots);
        Assert.Equal([1, 7, 8], Enumerable.Range(0, 3).Select(layout.Last));
        Assert.Equal([true, false, true], layout.EndsWith(tokens, Eos));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Every_row_needs_one_to_width_tokens(int length)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ResponseLayout(4, [3, length]));
        Assert.Contains($"response 1 has {length} tokens", error.Message);
    }

    [Fact]
    public void Arrays_of_the_wrong_size_are_refused_with_the_expected_size()
    {
        var layout = new ResponseLayout(3, [1, 3]);
        var error = Assert.Throws<ArgumentException>(() => KlEstimate.Tokens(KlEstimator.K1, layout, new double[5], new double[6]));
        Assert.Contains("expected 2×3 = 6 values, got 5", error.Message);
    }
}
