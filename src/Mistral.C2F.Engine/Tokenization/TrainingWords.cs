namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The words of a corpus as SentencePiece's BPE trainer sees them: each line is one sentence, normalized like the
/// tokenizer does (dummy prefix, spaces escaped to "▁"), then split before every "▁" that starts a word, so a run of
/// spaces stays with the word that follows it.
/// </summary>
internal static class TrainingWords
{
    /// <summary>Distinct words with their counts, in ordinal order so training never depends on hash order.</summary>
    public static IReadOnlyList<(string Word, long Count)> Count(string corpus)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var rawLine in corpus.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0) continue;
            var normalized = SentencePieceText.WordBoundary + line.Replace(' ', SentencePieceText.WordBoundary);
            int start = 0;
            for (int i = 1; i <= normalized.Length; i++)
            {
                bool wordStarts = i < normalized.Length && normalized[i] == SentencePieceText.WordBoundary
                                  && normalized[i - 1] != SentencePieceText.WordBoundary;
                if (i < normalized.Length && !wordStarts) continue;
                var word = normalized[start..i];
                counts[word] = counts.GetValueOrDefault(word) + 1;
                start = i;
            }
        }
        return counts.OrderBy(entry => entry.Key, StringComparer.Ordinal).Select(entry => (entry.Key, entry.Value)).ToList();
    }
}
