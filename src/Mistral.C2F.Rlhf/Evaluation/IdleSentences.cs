using System.Text.RegularExpressions;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The idle-sentence rate of a worked solution: of its sentences (as <see cref="RepeatedSentences"/> splits them), the
/// share that moves it nowhere — neither writes an equation ("12-3=9") not written before in the response, nor states the
/// answer for the first time ("The answer is 9", or a bare number as the whole response). Restating the question, filler,
/// checking a step, repeating one and restating the answer are all idle; a compact solution has none. Unlike repeated
/// 4-grams and sentences it sees redundancy that is worded anew, but it knows this task's notation: equations and the
/// answer phrase.
/// </summary>
public static partial class IdleSentences
{
    public static RepeatCount Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sentences = RepeatedSentences.Sentences(text).ToList();
        if (sentences.Count == 1 && BareNumber().IsMatch(sentences[0])) return new RepeatCount(0, 1);
        var equations = new HashSet<string>(StringComparer.Ordinal);
        bool answered = false;
        int idle = 0;
        foreach (var sentence in sentences)
        {
            bool newEquation = false;
            foreach (Match equation in Equation().Matches(sentence)) newEquation |= equations.Add(equation.Value);
            bool firstAnswer = !answered && sentence.Contains("the answer is", StringComparison.Ordinal);
            answered |= firstAnswer;
            if (!newEquation && !firstAnswer) idle++;
        }
        return new RepeatCount(idle, sentences.Count);
    }

    /// <summary>Whether the response writes at least one equation: shows its work, rather than only a number or words.</summary>
    public static bool ShowsWork(string text) => Equation().IsMatch(text);

    [GeneratedRegex(@"-?\d+[+-]\d+=-?\d+")]
    private static partial Regex Equation();

    [GeneratedRegex(@"^-?\d+$")]
    private static partial Regex BareNumber();
}
