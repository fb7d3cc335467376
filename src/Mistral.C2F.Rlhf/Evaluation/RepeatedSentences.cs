using System.Text.RegularExpressions;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The repeated-sentence rate of a response: of its sentences, the share that repeats an earlier sentence of the same
/// response. Sentences end at ".", "!" or "?" (an unfinished last sentence counts too); they are compared with case
/// ignored and whitespace runs collapsed, and empty ones are dropped.
/// </summary>
public static partial class RepeatedSentences
{
    public static RepeatCount Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return RepeatCount.Of(Sentences(text), StringComparer.Ordinal);
    }

    public static IEnumerable<string> Sentences(string text) =>
        SentenceEnd().Split(text)
            .Select(sentence => Whitespace().Replace(sentence, " ").Trim().ToLowerInvariant())
            .Where(sentence => sentence.Length > 0);

    [GeneratedRegex("[.!?]")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
