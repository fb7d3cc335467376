using System.Text.RegularExpressions;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// How well a response carries and borrows: of the distinct equations it writes ("17+5=22") whose left operand and
/// operation cross a tens boundary (<see cref="TensCrossing"/>), how many have the right result. This is the knowledge the
/// base model holds weakly and PPO is meant to strengthen; accuracy shows it only when every crossing of a problem is right.
/// </summary>
public static partial class CrossingSteps
{
    /// <summary>Right crossing steps out of all crossing steps; counts of several responses add up (pooled).</summary>
    public readonly record struct Tally(int Right, int Total)
    {
        /// <summary>The right share; null when no step crossed a tens boundary.</summary>
        public double? Rate => Total == 0 ? null : (double)Right / Total;

        public static Tally operator +(Tally a, Tally b) => new(a.Right + b.Right, a.Total + b.Total);
    }

    public static Tally Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int right = 0, total = 0;
        foreach (var equation in Equation().Matches(text).Select(match => match.Value).Distinct(StringComparer.Ordinal))
        {
            var parts = Equation().Match(equation).Groups;
            int left = int.Parse(parts[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            int operand = int.Parse(parts[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            var op = parts[2].Value == "+" ? ChainOperator.Add : ChainOperator.Subtract;
            if (!TensCrossing.Crosses(left, op, operand)) continue;
            total++;
            if (op.Apply(left, operand) == int.Parse(parts[4].Value, System.Globalization.CultureInfo.InvariantCulture)) right++;
        }
        return new Tally(right, total);
    }

    /// <summary>An equation not glued to a digit or '=' before it, with numbers short enough to parse.</summary>
    [GeneratedRegex(@"(?<![\d=])(-?\d{1,6})([+-])(\d{1,6})=(-?\d{1,6})(?!\d)")]
    private static partial Regex Equation();
}
