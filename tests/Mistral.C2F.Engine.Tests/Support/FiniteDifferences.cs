namespace Mistral.C2F.Engine.Tests.Support;

/// <summary>Central finite differences in float64, compared with an analytic gradient at sampled coordinates.</summary>
public static class FiniteDifferences
{
    /// <param name="values">The input, mutated in place while probing and restored after.</param>
    /// <param name="objective">Evaluates the scalar objective from the current <paramref name="values"/>.</param>
    /// <param name="analytic">dObjective/dValues from the backward under test.</param>
    public static void Check(double[] values, Func<double> objective, double[] analytic, string what, Random random,
        int samples = 40, double step = 1e-5, double tolerance = 1e-6)
    {
        Assert.Equal(values.Length, analytic.Length);
        var coordinates = values.Length <= samples ? Enumerable.Range(0, values.Length) : Enumerable.Range(0, samples).Select(_ => random.Next(values.Length));
        double scale = Math.Max(analytic.Max(Math.Abs), 1e-3);
        foreach (int i in coordinates)
        {
            double original = values[i];
            values[i] = original + step;
            double up = objective();
            values[i] = original - step;
            double down = objective();
            values[i] = original;
            double numeric = (up - down) / (2 * step);
            Assert.True(Math.Abs(numeric - analytic[i]) <= tolerance * scale,
                $"{what}[{i}]: analytic {analytic[i]:E6}, finite difference {numeric:E6} (tolerance {tolerance:E0} × {scale:E2})");
        }
    }

    public static double[] RandomDoubles(Random random, int count, double scale = 1) =>
        Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 2 - 1) * scale).ToArray();

    public static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();
}
