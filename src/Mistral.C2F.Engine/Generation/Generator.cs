using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Engine.Generation;

public enum FinishReason { EndOfSequence, MaxTokens }

public sealed record GenerationResult(int[] Tokens, FinishReason FinishReason);

/// <summary>
/// Batched generation with a rolling KV cache: prompts of different lengths are prefilled together in
/// chunks (shorter prompts padded), then every unfinished sequence decodes one token per step at its own
/// position until it emits EOS or reaches the token limit. Finished sequences leave the batch as they
/// accumulate (<paramref name="dropFinished"/>), so a decode step costs the rows still writing rather than
/// the batch the longest answer holds up.
/// </summary>
public sealed class Generator(MistralModel model, int prefillChunk = 128, bool dropFinished = true)
{
    private const int Padding = -1;

    /// <summary>
    /// Prompts to hand one call when there are many: with finished sequences dropped, a wider batch costs about the rows
    /// still writing, in fewer and larger matrix products than several narrow batches held up by their longest answers.
    /// </summary>
    public const int PromptsPerCall = 128;

    /// <summary>
    /// The decode batch is never cut below this many rows: the CPU backend multiplies 8 rows or fewer by dot products,
    /// summed in another order than its blocked GEMM, and a sequence's tokens must not depend on when the others finish.
    /// </summary>
    private const int FewestRows = 16;

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
        // No more slots than positions: a ring wider than that would only be masked out.
        int slots = Math.Min(model.Config.SlidingWindow ?? int.MaxValue, longest + maxNewTokens);
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

        var sequences = Enumerable.Range(0, batch).ToArray(); // the sequence each cache row holds
        for (int step = 1; finish.Any(f => f is null); step++)
        {
            cancellation.ThrowIfCancellationRequested();
            // Every step gives each unfinished sequence a token, so none can outlast the limit: a bug, not a long answer.
            if (step >= maxNewTokens) throw new InvalidOperationException($"decoding passed {maxNewTokens} tokens with sequences unfinished");
            if (dropFinished) sequences = DropFinished(cache, sequences, finish);
            var (tokens, positions) = (new int[sequences.Length], new int[sequences.Length]);
            for (int r = 0; r < sequences.Length; r++)
            {
                int b = sequences[r];
                (tokens[r], positions[r]) = finish[b] is null ? (generated[b][^1], prompts[b].Length + generated[b].Count - 1) : (0, Padding);
            }
            var logits = Step(cache, tokens, positions, sequences.Length, 1, rows: null);
            for (int r = 0; r < sequences.Length; r++)
                if (finish[sequences[r]] is null) Accept(sequences[r], samplers[sequences[r]].Next(logits.AsSpan(r * model.Config.VocabSize, model.Config.VocabSize)));
        }
        return Results(generated, finish);
    }

    /// <summary>
    /// Once a quarter of the cache's rows have finished, keeps the unfinished ones (and finished ones up to
    /// <see cref="FewestRows"/>, as padding); copying the cache each time fewer rows decode would cost more than it saves.
    /// </summary>
    private static int[] DropFinished(KvCache cache, int[] sequences, FinishReason?[] finish)
    {
        int unfinished = sequences.Count(b => finish[b] is null);
        int paddingRows = Math.Max(0, Math.Min(sequences.Length, FewestRows) - unfinished);
        if (unfinished + paddingRows > sequences.Length * 3 / 4) return sequences;
        var kept = new List<int>(unfinished + paddingRows);
        for (int r = 0; r < sequences.Length; r++)
        {
            bool writing = finish[sequences[r]] is null;
            if (!writing && paddingRows == 0) continue;
            if (!writing) paddingRows--;
            kept.Add(r);
        }
        cache.Keep(kept);
        return kept.Select(r => sequences[r]).ToArray();
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
