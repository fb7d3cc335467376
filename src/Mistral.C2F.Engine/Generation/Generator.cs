using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Engine.Generation;

public enum FinishReason { EndOfSequence, MaxTokens }

public sealed record GenerationResult(int[] Tokens, FinishReason FinishReason);

/// <summary>
/// Batched generation with a rolling KV cache: prompts of different lengths are prefilled together in
/// chunks (shorter prompts padded), then every unfinished sequence decodes one token per step at its own
/// position until it emits EOS or reaches the token limit.
/// </summary>
public sealed class Generator(MistralModel model, int prefillChunk = 128)
{
    private const int Padding = -1;

    /// <param name="onToken">Called with (sequence index, token) as each token is chosen, for streaming.</param>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, int maxNewTokens, SamplingOptions sampling,
        Action<int, int>? onToken = null, CancellationToken cancellation = default)
    {
        if (prompts.Count == 0) throw new ArgumentException("no prompts to generate from");
        if (maxNewTokens < 0) throw new ArgumentException($"max new tokens must be ≥ 0, got {maxNewTokens}");
        for (int b = 0; b < prompts.Count; b++)
        {
            if (prompts[b].Length == 0) throw new ArgumentException($"prompt {b} is empty: it needs at least one token (usually BOS)");
            model.ValidateTokens(prompts[b], $"prompt {b}");
        }
        int batch = prompts.Count, longest = prompts.Max(p => p.Length);
        // Without a window the cache holds every position: the bound also keeps a typo'd token count from allocating gigabytes.
        model.Config.RequirePositions((long)longest + maxNewTokens, "the longest prompt plus the new tokens");
        int slots = model.Config.SlidingWindow ?? longest + maxNewTokens;
        var samplers = Enumerable.Range(0, batch).Select(b => new Sampler(sampling, sampling.FirstSequence + b)).ToArray();
        var generated = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var finish = new FinishReason?[batch];
        using var cache = new KvCache(model, batch, slots);
        if (maxNewTokens == 0) return Results(generated, Enumerable.Repeat<FinishReason?>(FinishReason.MaxTokens, batch).ToArray());

        void Accept(int b, int token)
        {
            generated[b].Add(token);
            onToken?.Invoke(b, token);
            if (token == model.Config.EosTokenId) finish[b] = FinishReason.EndOfSequence;
            else if (generated[b].Count >= maxNewTokens) finish[b] = FinishReason.MaxTokens;
        }

        for (int start = 0; start < longest; start += prefillChunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int length = Math.Min(prefillChunk, longest - start);
            var (tokens, positions) = (new int[batch * length], new int[batch * length]);
            var lastRows = new List<(int Sequence, int Row)>();
            for (int b = 0; b < batch; b++)
            for (int i = 0; i < length; i++)
            {
                int p = start + i;
                bool real = p < prompts[b].Length;
                (tokens[b * length + i], positions[b * length + i]) = real ? (prompts[b][p], p) : (0, Padding);
                if (p == prompts[b].Length - 1) lastRows.Add((b, b * length + i));
            }
            var logits = Step(cache, tokens, positions, batch, length, lastRows.Select(r => r.Row).ToArray());
            for (int r = 0; r < lastRows.Count; r++) Accept(lastRows[r].Sequence, samplers[lastRows[r].Sequence].Next(logits.AsSpan(r * model.Config.VocabSize, model.Config.VocabSize)));
        }

        while (finish.Any(f => f is null))
        {
            cancellation.ThrowIfCancellationRequested();
            var (tokens, positions) = (new int[batch], new int[batch]);
            for (int b = 0; b < batch; b++)
                (tokens[b], positions[b]) = finish[b] is null ? (generated[b][^1], prompts[b].Length + generated[b].Count - 1) : (0, Padding);
            var logits = Step(cache, tokens, positions, batch, 1, rows: null);
            for (int b = 0; b < batch; b++)
                if (finish[b] is null) Accept(b, samplers[b].Next(logits.AsSpan(b * model.Config.VocabSize, model.Config.VocabSize)));
        }
        return Results(generated, finish);
    }

    private float[] Step(KvCache cache, int[] tokens, int[] positions, int batch, int length, int[]? rows)
    {
        var backend = model.Backend;
        using var tokenTensor = backend.FromInts(tokens, batch, length);
        using var positionTensor = backend.FromInts(positions, batch, length);
        using var rowTensor = rows is null ? null : backend.FromInts(rows, rows.Length);
        cache.BeginChunk(positions);
        try
        {
            return backend.ToFloats(model.Forward(tokenTensor, positionTensor, cache, rowTensor));
        }
        finally
        {
            cache.EndChunk();
        }
    }

    private static GenerationResult[] Results(List<int>[] generated, FinishReason?[] finish) =>
        generated.Select((tokens, b) => new GenerationResult([.. tokens], finish[b]!.Value)).ToArray();
}
