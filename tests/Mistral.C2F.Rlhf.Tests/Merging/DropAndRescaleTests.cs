using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

[Trait("Backend", "cpu")]
public sealed class DropAndRescaleTests
{
    private const string Name = "model.layers.0.mlp.up_proj.weight";

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Keeps_about_density_of_the_elements_and_divides_survivors_by_it(double density)
    {
        const int count = 200_000;
        var values = Enumerable.Range(0, count).Select(i => 1f + i % 7).ToArray();
        var dropped = values.ToArray();

        long kept = DropAndRescale.Apply(dropped, density, DropAndRescale.Stream(seed: 3, model: 0, Name));

        // Binomial(n, p): five standard deviations either side.
        double sigma = Math.Sqrt(count * density * (1 - density));
        Assert.InRange(kept, count * density - 5 * sigma, count * density + 5 * sigma);
        Assert.Equal(kept, dropped.Count(v => v != 0));
        Assert.All(Enumerable.Range(0, count), i => Assert.True(dropped[i] == 0 || dropped[i] == values[i] / (float)density));
        // The rescale keeps the expectation: the mean is unbiased, within five standard errors (Var = x²(1 − p)/p per element).
        double standardError = Math.Sqrt(values.Average(v => v * v) * (1 - density) / density / count);
        Assert.InRange(dropped.Average(), values.Average() - 5 * standardError, values.Average() + 5 * standardError);
    }

    [Fact]
    public void A_fixed_seed_gives_exactly_the_documented_draws()
    {
        var random = new Random(1);
        var values = Enumerable.Range(0, 1000).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var stream = DropAndRescale.Stream(seed: 42, model: 1, Name);
        var dropped = values.ToArray();
        DropAndRescale.Apply(dropped, 0.3, stream);
        Assert.Equal(ReferenceMerge.Dare(values, 0.3, stream), dropped);
    }

    [Fact]
    public void Draws_depend_on_seed_model_and_tensor_name_and_nothing_else()
    {
        bool[] Mask(ulong seed, int model, string name)
        {
            var values = Enumerable.Repeat(1f, 256).ToArray();
            DropAndRescale.Apply(values, 0.5, DropAndRescale.Stream(seed, model, name));
            return values.Select(v => v != 0).ToArray();
        }
        var mask = Mask(5, 0, Name);
        Assert.Equal(mask, Mask(5, 0, Name));
        Assert.NotEqual(mask, Mask(6, 0, Name));
        Assert.NotEqual(mask, Mask(5, 1, Name));
        Assert.NotEqual(mask, Mask(5, 0, "model.layers.1.mlp.up_proj.weight"));
        // Neighbouring seeds are not shifted copies of one stream (SplitMix64 states one step apart would be).
        Assert.NotEqual(mask[1..], Mask(4, 0, Name)[..^1]);
    }

    [Fact]
    public void Density_one_keeps_every_value_exactly()
    {
        float[] values = [0.1f, -3f, 7.25f];
        Assert.Equal(3, DropAndRescale.Apply(values, 1.0, DropAndRescale.Stream(0, 0, Name)));
        Assert.Equal([0.1f, -3f, 7.25f], values);
    }
}
