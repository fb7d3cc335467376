namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// How many of a text's units (4-grams, sentences) repeat an earlier unit of the same text, out of how many. Counts of
/// several responses add up, so a rate over a set of responses is pooled: every unit weighs the same.
/// </summary>
public readonly record struct RepeatCount(int Repeated, int Total)
{
    /// <summary>The repeated fraction; 0 for a text with no units at all (a two-word answer repeats nothing).</summary>
    public double Rate => Total == 0 ? 0 : (double)Repeated / Total;

    public static RepeatCount operator +(RepeatCount a, RepeatCount b) => new(a.Repeated + b.Repeated, a.Total + b.Total);

    /// <summary>Counts the units that equal an earlier unit of the same sequence.</summary>
    public static RepeatCount Of<T>(IEnumerable<T> units, IEqualityComparer<T>? comparer = null)
    {
        var seen = new HashSet<T>(comparer);
        int total = 0, repeated = 0;
        foreach (var unit in units)
        {
            total++;
            if (!seen.Add(unit)) repeated++;
        }
        return new RepeatCount(repeated, total);
    }
}
