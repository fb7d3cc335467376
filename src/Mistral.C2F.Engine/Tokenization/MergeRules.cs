using System.Buffers;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// Which merged pieces the trainer may learn, following Mistral's trainer settings: digits stay single
/// (split_digits), "▁" only leads a piece (split_by_whitespace, whitespace-only pieces allowed), letters never join
/// punctuation (split_by_unicode_script, with ASCII letters vs. everything else as the two scripts), at most 16 characters.
/// </summary>
/// <remarks>
/// SentencePiece (and the engine's encoder) never merge into control or byte pieces, but Microsoft.ML.Tokenizers merges
/// any adjacent pair whose concatenation is in the vocabulary, so with a vocabulary holding e.g. "&lt;s" it would encode
/// the literal text "&lt;s&gt;" as the BOS id. Every special and byte piece mixes letters or digits with punctuation, so
/// these rules keep the built-in tokenizer's ids the same in every tool that reads it.
/// </remarks>
internal static class MergeRules
{
    public const int MaxPieceLength = 16;

    private static readonly SearchValues<char> BoundaryOrDigit = SearchValues.Create("\u25810123456789");

    public static bool CanMerge(string left, string right)
    {
        if (left.Length + right.Length > MaxPieceLength) return false;
        var merged = string.Concat(left, right);
        int bodyStart = 0;
        while (bodyStart < merged.Length && merged[bodyStart] == SentencePieceText.WordBoundary) bodyStart++;
        var body = merged.AsSpan(bodyStart);
        if (body.IsEmpty) return true;
        if (body.ContainsAny(BoundaryOrDigit)) return false;
        bool letters = char.IsAsciiLetter(body[0]);
        foreach (var c in body)
            if (char.IsAsciiLetter(c) != letters) return false;
        return true;
    }
}
