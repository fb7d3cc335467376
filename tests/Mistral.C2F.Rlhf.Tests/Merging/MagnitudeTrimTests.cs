using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

[Trait("Backend", "cpu")]
public sealed class MagnitudeTrimTests
{
    [Theory]
    [InlineData(1000, 0.3)]
    [InlineData(1001, 0.5)]
    [InlineData(4097, 0.01)]
    [InlineData(100, 0.29)]
    [InlineData(7, 0.9)]
    public void Keeps_exactly_the_top_density_fraction_by_magnitude(int count, double density)
    {
        var random = new Random(count);
        var values = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var trimmed = values.ToArray();

        long kept = MagnitudeTrim.Apply(trimmed, density);

        Assert.Equal((long)Math.Round(density * count), kept);
        Assert.Equal(kept, trimmed.Count(v => v != 0));
        var keptMagnitudes = trimmed.Where(v => v != 0).Select(Math.Abs);
        var droppedMagnitudes = values.Where((v, i) => trimmed[i] == 0).Select(Math.Abs);
        Assert.True(keptMagnitudes.Min() >= droppedMagnitudes.DefaultIfEmpty(0).Max());
        // Survivors keep their exact value and sign.
        Assert.All(Enumerable.Range(0, count), i => Assert.True(trimmed[i] == 0 || trimmed[i] == values[i]));
        Assert.Equal(ReferenceMerge.Trim(values, density), trimmed);
    }

    [Fact]
    public void Equal_magnitudes_at_the_boundary_are_kept_in_index_order()
    {
        // Magnitude 2 appears four times (two negative); two of them fit after the 5 and the -3.
        float[] values = [2, -3, 1, -2, 5, 2, -2, 0.5f];
        MagnitudeTrim.Apply(values, density: 0.5);
        Assert.Equal([2, -3, 0, -2, 5, 0, 0, 0], values);
    }

    [Fact]
    public void Ties_across_the_radix_levels_match_a_full_stable_sort()
    {
        // Few distinct magnitudes, many repeats, both signs, zeros: every boundary falls inside a run of ties.
        var random = new Random(7);
        var values = Enumerable.Range(0, 5000).Select(_ => (float)random.Next(-4, 5) * 0.25f).ToArray();
        foreach (var density in new[] { 0.05, 0.2, 0.5, 0.77, 0.99 })
        {
            var trimmed = values.ToArray();
            MagnitudeTrim.Apply(trimmed, density);
            Assert.Equal(ReferenceMerge.Trim(values, density), trimmed);
        }
    }

    [Fact]
    public void Density_one_keeps_everything_and_a_count_that_rounds_to_zero_keeps_nothing()
    {
        float[] values = [1, -2, 3];
        Assert.Equal(3, MagnitudeTrim.Apply(values, 1.0));
        Assert.Equal([1, -2, 3], values);
        Assert.Equal(0, MagnitudeTrim.Apply(values, 0.1));
        Assert.Equal([0, 0, 0], values);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Density_outside_zero_to_one_is_refused(double density) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MagnitudeTrim.Apply(new float[4], density));
}
