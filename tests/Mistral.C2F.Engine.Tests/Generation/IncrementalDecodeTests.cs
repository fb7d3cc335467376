using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Generation;

[Trait("Backend", "cpu")]
public sealed class IncrementalDecodeTests
{
    private const double LogitTolerance = 1e-5;

    [Theory]
    [InlineData(8, 1, 40)]   // decode-only through a window of 8 slots
    [InlineData(8, 3, 45)]   // chunks of 3 that straddle the ring's wrap-around
    [InlineData(8, 11, 50)]  // chunks longer than the window
    [InlineData(null, 5, 30)]
    public void Chunked_prefill_and_decode_reproduce_the_full_forward_logits(int? window, int prefillChunk, int length)
    {
        var config = TestModels.Tiny(window);
        int seed = Environment.TickCount;
        using var backend = new CpuBackend(2);
        using var model = TestModels.Random(config, backend, seed);
        var random = new Random(seed);
        var (first, second) = (TestModels.RandomTokens(random, length, config.VocabSize), TestModels.RandomTokens(random, length, config.VocabSize));
        var positions = Enumerable.Range(0, length).ToArray();
        var expected = backend.ToFloats(model.Forward(backend.FromInts([.. first, .. second], 2, length), backend.FromInts([.. positions, .. positions], 2, length)));

        // The same two sequences through the cache: a prefill of 2·chunk tokens in chunks, then one token per step.
        using var cache = new KvCache(model, batch: 2, slots: window ?? length);
        var actual = new float[expected.Length];
        int vocab = config.VocabSize, prefill = Math.Min(length, 2 * prefillChunk);
        for (int start = 0; start < length;)
        {
            int chunk = start < prefill ? Math.Min(prefillChunk, prefill - start) : 1;
            int[] tokens = [.. first.AsSpan(start, chunk), .. second.AsSpan(start, chunk)];
            int[] chunkPositions = [.. positions.AsSpan(start, chunk), .. positions.AsSpan(start, chunk)];
            cache.BeginChunk(chunkPositions);
            var logits = backend.ToFloats(model.Forward(backend.FromInts(tokens, 2, chunk), backend.FromInts(chunkPositions, 2, chunk), cache));
            cache.EndChunk();
            for (int b = 0; b < 2; b++)
                logits.AsSpan(b * chunk * vocab, chunk * vocab).CopyTo(actual.AsSpan((b * length + start) * vocab));
            start += chunk;
        }
        Numerics.AssertClose(actual, expected.Select(x => (double)x).ToArray(), LogitTolerance, $"incremental logits (seed {seed})");
    }

    [Fact]
    public void A_batch_of_prompts_of_different_lengths_generates_what_each_prompt_generates_alone()
    {
        var config = TestModels.Tiny(window: 8);
        int seed = Environment.TickCount;
        using var backend = new CpuBackend(2);
        using var model = TestModels.Random(config, backend, seed);
        var random = new Random(seed);
        int[][] prompts = [TestModels.RandomTokens(random, 3, 60), TestModels.RandomTokens(random, 17, 60), TestModels.RandomTokens(random, 9, 60)];
        var generator = new Generator(model, prefillChunk: 4);
        var cancel = TestContext.Current.CancellationToken;

        var together = generator.Generate(prompts, maxNewTokens: 12, new SamplingOptions(), cancellation: cancel);
        for (int b = 0; b < prompts.Length; b++)
            Assert.Equal(generator.Generate([prompts[b]], 12, new SamplingOptions(), cancellation: cancel)[0].Tokens, together[b].Tokens);

        var sampling = new SamplingOptions(Temperature: 0.8f, TopK: 20, TopP: 0.95f, Seed: seed);
        var sampled = generator.Generate(prompts, 12, sampling, cancellation: cancel);
        var again = generator.Generate(prompts, 12, sampling, cancellation: cancel);
        Assert.Equal(sampled.Select(r => r.Tokens), again.Select(r => r.Tokens));

        // A data-parallel rank samples its part of a batch as the whole batch would: FirstSequence names where the part starts.
        var tail = generator.Generate(prompts[1..], 12, sampling with { FirstSequence = 1 }, cancellation: cancel);
        Assert.Equal(sampled.Skip(1).Select(r => r.Tokens), tail.Select(r => r.Tokens));
    }

    [Fact]
    public void Generation_stops_at_eos_or_the_token_limit()
    {
        var config = TestModels.Tiny() with { EosTokenId = 5 };
        using var backend = new CpuBackend(1);
        using var model = TestModels.Random(config, backend, 7);
        var results = new Generator(model).Generate([[1, 2, 3], [4]], maxNewTokens: 30, new SamplingOptions(Temperature: 1.5f, Seed: 3),
            cancellation: TestContext.Current.CancellationToken);
        foreach (var result in results)
        {
            int eos = Array.IndexOf(result.Tokens, 5);
            if (result.FinishReason == FinishReason.EndOfSequence) Assert.Equal(result.Tokens.Length - 1, eos);
            else Assert.True(result.Tokens.Length == 30 && eos < 0);
        }
    }
}
