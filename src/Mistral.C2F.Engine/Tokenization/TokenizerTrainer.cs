namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// Trains a small SentencePiece BPE vocabulary laid out like Mistral's: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte
/// pieces &lt;0x00&gt;…&lt;0xFF&gt;, "▁" and the printable ASCII characters, then learned merges, most frequent first.
/// </summary>
/// <remarks>
/// A merge's score is minus its rank, so an encoder that applies the highest-scoring adjacent pair first (SentencePiece,
/// Microsoft.ML.Tokenizers) replays the merges in training order. As in SentencePiece, once frequent pairs run out,
/// pairs seen once are merged too (whole rare words) until the vocabulary is full. Characters outside the base
/// alphabet are never merged: the tokenizer spells them as UTF-8 bytes. Cost is O(merges × symbols of the distinct
/// words): fine up to a few MB of text.
/// </remarks>
public static class TokenizerTrainer
{
    private const int NotMergeable = -1;

    public static int BaseVocabularySize { get; } = BaseVocabulary().Count;

    public static IReadOnlyList<SentencePiece> Train(string corpus, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var pieces = BaseVocabulary();
        if (vocabularySize < pieces.Count)
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize,
                $"The vocabulary needs at least {pieces.Count} pieces: 3 special, 256 bytes, '▁' and printable ASCII.");

        var symbols = new List<string>();
        var symbolIds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var piece in pieces.Where(piece => piece.Type == SentencePieceType.Normal))
        {
            symbolIds.Add(piece.Piece, symbols.Count);
            symbols.Add(piece.Piece);
        }

        var weightedWords = TrainingWords.Count(corpus);
        var words = weightedWords
            .Select(entry => entry.Word.Select(c => symbolIds.GetValueOrDefault(c.ToString(), NotMergeable)).ToArray())
            .ToArray();
        var counts = weightedWords.Select(entry => entry.Count).ToArray();
        var mergeable = new Dictionary<(int, int), bool>();

        while (pieces.Count < vocabularySize)
        {
            var (left, right) = MostFrequentPair(words, counts, symbols, mergeable)
                ?? throw new InvalidOperationException(
                    $"The corpus yields only {pieces.Count} pieces (every word is already one piece); {vocabularySize} were " +
                    "asked for. Use a larger corpus or a smaller vocabulary.");
            var merged = symbols[left] + symbols[right];
            // The same text can come from two different splits ("▁a"+"b", "▁"+"ab"); it is one piece.
            if (!symbolIds.TryGetValue(merged, out int mergedId))
            {
                mergedId = symbols.Count;
                symbolIds.Add(merged, mergedId);
                symbols.Add(merged);
                int rank = pieces.Count - BaseVocabularySize;
                pieces.Add(new SentencePiece(merged, -rank, SentencePieceType.Normal));
            }
            for (int w = 0; w < words.Length; w++) words[w] = ReplacePair(words[w], left, right, mergedId);
        }
        return pieces;
    }

    private static List<SentencePiece> BaseVocabulary()
    {
        var pieces = new List<SentencePiece>
        {
            new(SpecialTokens.Unknown, 0, SentencePieceType.Unknown),
            new(SpecialTokens.BeginOfSequence, 0, SentencePieceType.Control),
            new(SpecialTokens.EndOfSequence, 0, SentencePieceType.Control),
        };
        for (int value = 0; value < 256; value++) pieces.Add(new(SentencePieceText.BytePiece(value), 0, SentencePieceType.Byte));
        pieces.Add(new(SentencePieceText.WordBoundary.ToString(), 0, SentencePieceType.Normal));
        // ' ' itself never reaches the model: the normalizer has already turned it into "▁".
        for (char c = '!'; c <= '~'; c++) pieces.Add(new(c.ToString(), 0, SentencePieceType.Normal));
        return pieces;
    }

    /// <summary>The allowed adjacent pair with the highest corpus count; ties go to the ordinally smallest merged text, then left side.</summary>
    private static (int Left, int Right)? MostFrequentPair(int[][] words, long[] counts, List<string> symbols,
        Dictionary<(int, int), bool> mergeable)
    {
        var pairCounts = new Dictionary<(int, int), long>();
        for (int w = 0; w < words.Length; w++)
        {
            var word = words[w];
            for (int i = 0; i + 1 < word.Length; i++)
            {
                var pair = (word[i], word[i + 1]);
                if (pair.Item1 == NotMergeable || pair.Item2 == NotMergeable) continue;
                if (!mergeable.TryGetValue(pair, out bool allowed))
                    mergeable[pair] = allowed = MergeRules.CanMerge(symbols[pair.Item1], symbols[pair.Item2]);
                if (allowed) pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + counts[w];
            }
        }

        (int Left, int Right)? best = null;
        (long Count, string Text, string Left) bestKey = default;
        foreach (var (pair, count) in pairCounts)
        {
            var key = (count, symbols[pair.Item1] + symbols[pair.Item2], symbols[pair.Item1]);
            if (best is null || Precedes(key, bestKey)) (best, bestKey) = (pair, key);
        }
        return best;
    }

    private static bool Precedes((long Count, string Text, string Left) a, (long Count, string Text, string Left) b) =>
        a.Count != b.Count ? a.Count > b.Count
        : a.Text != b.Text ? string.CompareOrdinal(a.Text, b.Text) < 0
        : string.CompareOrdinal(a.Left, b.Left) < 0;

    private static int[] ReplacePair(int[] word, int left, int right, int merged)
    {
        if (word.Length < 2) return word;
        List<int>? replaced = null;
        for (int i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right)
            {
                replaced ??= new List<int>(word.AsSpan(0, i).ToArray());
                replaced.Add(merged);
                i++;
            }
            else replaced?.Add(word[i]);
        }
        return replaced?.ToArray() ?? word;
    }
}
