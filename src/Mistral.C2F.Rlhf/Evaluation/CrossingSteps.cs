using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// How well a response carries and borrows: of the distinct equations it writes ("17+5=22") whose left operand and
/// operation cross a tens boundary (<see cref="TensCrossing"/>), how many have the right result. This is the knowledge the
/// base model holds weakly and PPO is meant to strengthen; accuracy shows it only when every crossing of a problem is right.
/// </summary>
public static class CrossingSteps
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
        var crossing = WrittenEquation.In(text).Distinct().Where(e => TensCrossing.Crosses(e.Left, e.Operator, e.Operand)).ToList();
        return new Tally(crossing.Count(e => e.IsRight), crossing.Count);
    }
}
