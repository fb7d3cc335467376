namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The repeated n-gram rate of a response, 1 − distinct-n: of its n-grams of words, the share that repeats an earlier
/// n-gram of the same response. Words, not model tokens, so the figure does not depend on the tokenizer: a word is a
/// run of non-whitespace, compared case-insensitively ("17." and "17" differ).
/// </summary>
public static class RepeatedNgrams
{
    public const int DefaultN = 4;

    public static RepeatCount Count(string text, int n = DefaultN)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var words = text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var ngrams = Enumerable.Range(0, Math.Max(0, words.Length - n + 1)).Select(start => string.Join(' ', words, start, n));
        return RepeatCount.Of(ngrams, StringComparer.Ordinal);
    }
}
