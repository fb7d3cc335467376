using System.Globalization;
using System.Text.RegularExpressions;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>An equation a response writes ("17+5=22"), read back so that its result can be checked.</summary>
public readonly partial record struct WrittenEquation(int Left, ChainOperator Operator, int Operand, int Result)
{
    public bool IsRight => Operator.Apply(Left, Operand) == Result;

    /// <summary>The equations of a text in order, repeats included.</summary>
    public static IEnumerable<WrittenEquation> In(string text)
    {
        // Not an iterator, so that a null text fails here rather than when the equations are first read.
        ArgumentNullException.ThrowIfNull(text);
        return Pattern().Matches(text).Select(match => new WrittenEquation(Number(match.Groups[1]),
            match.Groups[2].Value == "+" ? ChainOperator.Add : ChainOperator.Subtract, Number(match.Groups[3]), Number(match.Groups[4])));
    }

    /// <summary>
    /// Whether every equation the text writes is right. An answer can be right by luck, a wrong step undone by another
    /// ("11-7=14. 14+9=13." ends where 11-7+9 does): the answer checker counts it right, a check of the working does not.
    /// </summary>
    public static bool AllRight(string text) => In(text).All(equation => equation.IsRight);

    private static int Number(Group group) => int.Parse(group.Value, CultureInfo.InvariantCulture);

    /// <summary>An equation not glued to a digit or '=' before it, with numbers short enough to parse.</summary>
    [GeneratedRegex(@"(?<![\d=])(-?\d{1,6})([+-])(\d{1,6})=(-?\d{1,6})(?!\d)")]
    private static partial Regex Pattern();
}
