namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// A mean over seeds with its 95 % confidence interval (Student's t with n − 1 degrees of freedom): the error bar of a
/// figure measured once per seed. With one seed the interval is unbounded.
/// </summary>
public readonly record struct Interval(double Mean, double Low, double High, int Count)
{
    // Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; past 30 the normal's 1.96 is within 4 %.
    private static readonly double[] T95 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    public static Interval Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values to summarise", nameof(values));
        double mean = values.Average();
        if (values.Count == 1) return new Interval(mean, double.NegativeInfinity, double.PositiveInfinity, 1);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        double half = (values.Count - 1 <= T95.Length ? T95[values.Count - 2] : 1.96) * Math.Sqrt(variance / values.Count);
        return new Interval(mean, mean - half, mean + half, values.Count);
    }

    /// <summary>The whole interval lies above zero: the effect is positive at 95 % confidence.</summary>
    public bool AboveZero => Low > 0;
}
