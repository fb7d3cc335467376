using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.Tests.Ppo.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class MaskedWhiteningTests
{
    [Fact]
    public void Real_tokens_are_centred_and_scaled_by_the_bessel_corrected_variance_and_padding_is_untouched()
    {
        // Real tokens 1, 2 | 3, 4 (NaN padding): mean 2.5, Σ(x − mean)² = 2.25 + 0.25 + 0.25 + 2.25 = 5, variance 5/3.
        var layout = PaddedBatch.Layout(3, [1.0, 2.0], [3.0, 4.0]);
        var values = PaddedBatch.Flatten(3, [1.0, 2.0], [3.0, 4.0]);

        MaskedWhitening.WhitenInPlace(layout, values);

        double scale = 1 / Math.Sqrt(5.0 / 3 + 1e-8);
        Assert.Equal([-1.5 * scale, -0.5 * scale, double.NaN, 0.5 * scale, 1.5 * scale, double.NaN], values, new ToleranceComparer(1e-15));
    }

    [Fact]
    public void Without_the_mean_shift_the_mean_is_kept()
    {
        var layout = PaddedBatch.Layout(3, [1.0, 2.0], [3.0, 4.0]);
        var values = PaddedBatch.Flatten(3, [1.0, 2.0], [3.0, 4.0]);

        MaskedWhitening.WhitenInPlace(layout, values, shiftMean: false);

        double scale = 1 / Math.Sqrt(5.0 / 3 + 1e-8);
        Assert.Equal([2.5 - 1.5 * scale, 2.5 - 0.5 * scale, double.NaN, 2.5 + 0.5 * scale, 2.5 + 1.5 * scale, double.NaN], values,
            new ToleranceComparer(1e-15));
    }

    [Fact]
    public void Random_ragged_batches_come_out_with_mean_zero_and_unit_variance()
    {
        var random = new Random(5);
        var layout = PaddedBatch.RandomLayout(random, rows: 9, width: 13);
        var values = PaddedBatch.Random(random, layout, 3, 40);

        MaskedWhitening.WhitenInPlace(layout, values);

        var real = PaddedBatch.RealSlots(layout).Select(i => values[i]).ToArray();
        Assert.Equal(0.0, real.Average(), 1e-13);
        Assert.Equal(1.0, real.Sum(x => x * x) / (real.Length - 1), 1e-9);
        Assert.All(PaddedBatch.PaddingSlots(layout), i => Assert.True(double.IsNaN(values[i])));
    }

    [Fact]
    public void One_real_token_has_no_variance_to_whiten_by()
    {
        var layout = new ResponseLayout(2, [1]);
        Assert.Throws<ArgumentException>(() => MaskedWhitening.WhitenInPlace(layout, new double[2]));
    }
}
