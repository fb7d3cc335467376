using Mistral.C2F.Engine.Generation;

namespace Mistral.C2F.Engine.Tests.Generation;

[Trait("Backend", "cpu")]
public sealed class SamplerTests
{
    private readonly Random _random = new();

    private float[] RandomLogits(int count) => Enumerable.Range(0, count).Select(_ => (float)(_random.NextDouble() * 6 - 3)).ToArray();

    private static int ArgMax(float[] logits) => Array.IndexOf(logits, logits.Max());

    [Fact]
    public void Greedy_top_k_one_and_tiny_top_p_all_pick_the_argmax()
    {
        var logits = RandomLogits(500);
        int best = ArgMax(logits);
        Assert.Equal(best, new Sampler(new SamplingOptions(), 0).Next(logits));
        Assert.Equal(best, new Sampler(new SamplingOptions(Temperature: 2, TopK: 1, Seed: _random.Next()), 0).Next(logits));
        Assert.Equal(best, new Sampler(new SamplingOptions(Temperature: 2, TopP: 1e-6f, Seed: _random.Next()), 0).Next(logits));
    }

    [Fact]
    public void Temperature_sampling_follows_the_softmax_distribution()
    {
        var logits = RandomLogits(6);
        const float temperature = 0.7f;
        const int draws = 60_000;
        var sampler = new Sampler(new SamplingOptions(Temperature: temperature, Seed: _random.Next()), 0);
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Next(logits)]++;

        var weights = logits.Select(l => Math.Exp(l / temperature)).ToArray();
        for (int i = 0; i < logits.Length; i++)
        {
            double p = weights[i] / weights.Sum();
            double standardError = Math.Sqrt(p * (1 - p) / draws);
            Assert.True(Math.Abs(counts[i] / (double)draws - p) < 5 * standardError + 1e-4,
                $"token {i}: frequency {counts[i] / (double)draws:F4}, probability {p:F4}");
        }
    }

    [Fact]
    public void Top_k_and_top_p_restrict_the_support()
    {
        var logits = RandomLogits(50);
        var order = Enumerable.Range(0, 50).OrderByDescending(i => logits[i]).ToArray();
        var topK = new Sampler(new SamplingOptions(Temperature: 5, TopK: 4, Seed: _random.Next()), 0);
        var seen = Enumerable.Range(0, 3000).Select(_ => topK.Next(logits)).ToHashSet();
        Assert.Subset(order.Take(4).ToHashSet(), seen);

        // Top-p keeps the smallest prefix of the sorted distribution whose mass reaches p.
        var probabilities = logits.Select(l => Math.Exp(l)).ToArray();
        double total = probabilities.Sum(), mass = 0;
        int keep = 0;
        while (mass < 0.5 * total) mass += probabilities[order[keep++]];
        var topP = new Sampler(new SamplingOptions(Temperature: 1, TopP: 0.5f, Seed: _random.Next()), 0);
        seen = Enumerable.Range(0, 3000).Select(_ => topP.Next(logits)).ToHashSet();
        Assert.Subset(order.Take(keep).ToHashSet(), seen);
    }

    [Fact]
    public void The_same_seed_and_sequence_give_the_same_tokens()
    {
        var logits = RandomLogits(100);
        var options = new SamplingOptions(Temperature: 1, Seed: _random.Next());
        var (first, second) = (new Sampler(options, 3), new Sampler(options, 3));
        Assert.Equal(Enumerable.Range(0, 50).Select(_ => first.Next(logits)), Enumerable.Range(0, 50).Select(_ => second.Next(logits)));
    }

    [Theory]
    [InlineData(-1f, 0, 1f)]
    [InlineData(float.NaN, 0, 1f)]
    [InlineData(1f, -2, 1f)]
    [InlineData(1f, 0, 0f)]
    [InlineData(1f, 0, 1.5f)]
    public void Invalid_options_are_rejected(float temperature, int topK, float topP) =>
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions(temperature, topK, topP), 0));

    /// <summary>A NaN compares false with everything, so argmax or the sort would pick a token as if nothing were wrong.</summary>
    [Theory]
    [InlineData(0f)]
    [InlineData(0.8f)]
    public void A_non_finite_logit_is_refused_naming_the_token(float temperature)
    {
        float[] logits = [0.5f, 1.5f, float.NaN, -2f];
        var error = Assert.Throws<InvalidDataException>(() => new Sampler(new SamplingOptions(temperature), 0).Next(logits));
        Assert.Contains("the logit NaN to token 2", error.Message);
        logits[2] = float.PositiveInfinity;
        Assert.Contains("the logit +infinity to token 2", Assert.Throws<InvalidDataException>(() => new Sampler(new SamplingOptions(temperature), 0).Next(logits)).Message);
    }
}
