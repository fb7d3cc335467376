using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Generation;

/// <summary>Finished sequences leave the decode batch (<see cref="KvCache.Keep"/>) without changing what the others generate.</summary>
[Trait("Backend", "cpu")]
public sealed class DropFinishedTests
{
    private const double LogitTolerance = 1e-5;

    [Theory]
    [InlineData(8)]    // the ring wraps: kept rows carry their slot positions along
    [InlineData(null)]
    public void A_kept_sequence_decodes_as_it_did_in_the_whole_batch(int? window)
    {
        var config = TestModels.Tiny(window);
        int seed = Environment.TickCount, length = 11, vocab = config.VocabSize;
        using var backend = new CpuBackend(2);
        using var model = TestModels.Random(config, backend, seed);
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, 4).Select(_ => TestModels.RandomTokens(random, length, vocab)).ToArray();
        int[] next = [.. TestModels.RandomTokens(random, 4, vocab)];
        int[] kept = [1, 3];

        float[] Decode(KvCache cache, int[] rows)
        {
            int[] positions = [.. rows.Select(_ => length)];
            cache.BeginChunk(positions);
            var logits = backend.ToFloats(model.Forward(backend.FromInts([.. rows.Select(r => next[r])], rows.Length, 1), backend.FromInts(positions, rows.Length, 1), cache));
            cache.EndChunk();
            return logits;
        }

        using var whole = Prefilled(model, backend, prompts, window);
        var expected = Decode(whole, [0, 1, 2, 3]);
        using var cut = Prefilled(model, backend, prompts, window);
        cut.Keep(kept);
        Assert.Equal(2, cut.Batch);
        var actual = Decode(cut, kept);
        for (int i = 0; i < kept.Length; i++)
            Numerics.AssertClose(actual.AsSpan(i * vocab, vocab).ToArray(), expected.AsSpan(kept[i] * vocab, vocab).ToArray().Select(x => (double)x).ToArray(),
                LogitTolerance, $"logits of kept row {kept[i]} (seed {seed})");
    }

    [Fact]
    public void Keep_refuses_rows_that_do_not_ascend_within_the_batch_and_a_call_inside_a_chunk()
    {
        var config = TestModels.Tiny();
        using var backend = new CpuBackend(1);
        using var model = TestModels.Random(config, backend, 5);
        using var cache = new KvCache(model, batch: 3, slots: 8);
        foreach (int[] rows in new[] { Array.Empty<int>(), [2, 1], [0, 0], [3], [-1, 2] })
            Assert.Throws<ArgumentException>(() => cache.Keep(rows));
        cache.BeginChunk([0, 0, 0]);
        Assert.Throws<InvalidOperationException>(() => cache.Keep([0]));
        cache.EndChunk();
        cache.Keep([0, 2]);
        Assert.Equal(2, cache.Batch);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(null)]
    public void Dropping_finished_sequences_generates_the_same_tokens_bit_for_bit(int? window)
    {
        int seed = Environment.TickCount;
        using var backend = new CpuBackend(2);
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, 48).Select(_ => TestModels.RandomTokens(random, random.Next(1, 9), TestModels.Tiny().VocabSize)).ToArray();
        var sampling = new SamplingOptions(Temperature: 2f, Seed: seed);
        var cancel = TestContext.Current.CancellationToken;

        (IReadOnlyList<GenerationResult> Results, long Gathers) Run(MistralModel model, bool dropFinished)
        {
            var profile = backend.Profile = new OpProfile();
            var results = new Generator(model, dropFinished: dropFinished).Generate(prompts, maxNewTokens: 40, sampling, cancellation: cancel);
            backend.Profile = null;
            return (results, profile.Entries.Where(e => e.Op == "GatherRows").Sum(e => e.Calls));
        }

        // The end token is one with which between a quarter and all but one of the 48 sequences end within 40 tokens, each
        // at its own step (a random model samples some tokens rarely, so a fixed one might end none).
        foreach (int eos in Enumerable.Range(3, 40))
        {
            using var model = TestModels.Random(TestModels.Tiny(window) with { EosTokenId = eos }, backend, seed);
            var (all, gathersKeepingAll) = Run(model, dropFinished: false);
            if (all.Count(r => r.FinishReason == FinishReason.EndOfSequence) is < 13 or > 47) continue;
            var (dropping, gathersDropping) = Run(model, dropFinished: true);
            Assert.Equal(all.Select(r => (r.Tokens, r.FinishReason)), dropping.Select(r => (r.Tokens, r.FinishReason)));
            // Each embedding lookup is one gather; each cut of the batch adds two a layer (keys and values).
            Assert.True(gathersDropping > gathersKeepingAll, $"no finished sequence left the batch (seed {seed}, end token {eos})");
            return;
        }
        Assert.Fail($"no token of the random model (seed {seed}) ends between 13 and 47 of the 48 sequences");
    }

    private static KvCache Prefilled(MistralModel model, Backend backend, int[][] prompts, int? window)
    {
        int length = prompts[0].Length;
        var cache = new KvCache(model, prompts.Length, window ?? length + 1);
        int[] positions = [.. prompts.SelectMany(_ => Enumerable.Range(0, length))];
        cache.BeginChunk(positions);
        model.Forward(backend.FromInts([.. prompts.SelectMany(p => p)], prompts.Length, length), backend.FromInts(positions, prompts.Length, length), cache).Dispose();
        cache.EndChunk();
        return cache;
    }
}
