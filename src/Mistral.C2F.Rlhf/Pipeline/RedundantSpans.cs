using System.Text.RegularExpressions;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// Removes the redundant spans of a response before it becomes refinement-SFT data: a sentence that repeats an
/// earlier one (compared as <see cref="Evaluation.RepeatedSentences"/> compares them), and everything after the
/// sentence that states the final answer.
/// </summary>
public static partial class RedundantSpans
{
    public static string Remove(string response)
    {
        var kept = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sentence in SentenceBoundary().Split(response.Trim()).Where(s => s.Length > 0))
        {
            if (!seen.Add(Whitespace().Replace(sentence, " ").Trim().ToLowerInvariant())) continue;
            kept.Add(sentence.Trim());
            if (sentence.Contains(WorkedSolution.AnswerPhrase, StringComparison.OrdinalIgnoreCase)) break;
        }
        return string.Join(" ", kept);
    }

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceBoundary();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
