using System.Globalization;
using System.Text.RegularExpressions;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// Reads the final answer from a free-form response and checks it: the number after the last "The answer is" (any
/// case), else the last integer anywhere in the text. A minus sign counts only when it sits directly before the digits
/// and not after a word or number ("-3" is negative; in "12-3" and "12 - 3" the 3 is not). A response without a
/// number, or whose number does not fit an int, has no answer and is never correct.
/// </summary>
public static partial class AnswerChecker
{
    public static int? ExtractFinalAnswer(string? response)
    {
        if (string.IsNullOrEmpty(response)) return null;
        var stated = AnswerPhrase().Matches(response);
        var number = stated.Count > 0 ? stated[^1].Groups["number"] : LastInteger(response);
        return number is { Success: true } && int.TryParse(number.ValueSpan, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)
            ? value
            : null;
    }

    public static bool IsCorrect(string? response, int expected) => ExtractFinalAnswer(response) == expected;

    private static Group? LastInteger(string response)
    {
        var integers = Integer().Matches(response);
        return integers.Count > 0 ? integers[^1].Groups["number"] : null;
    }

    [GeneratedRegex(@"the answer is\s*(?<number>" + SignedInteger + ")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AnswerPhrase();

    [GeneratedRegex("(?<number>" + SignedInteger + ")", RegexOptions.CultureInvariant)]
    private static partial Regex Integer();

    private const string SignedInteger = @"(?:(?<![\w-])-)?[0-9]+";
}
