namespace Mistral.C2F.Rlhf.Tests.Ppo.Support;

internal static class NumericalGradient
{
    /// <summary>(f(x + h·e_i) − f(x − h·e_i)) / 2h, error O(h²) for a smooth f.</summary>
    public static double Central(Func<double[], double> f, double[] x, int i, double h = 1e-5)
    {
        var shifted = (double[])x.Clone();
        shifted[i] = x[i] + h;
        double up = f(shifted);
        shifted[i] = x[i] - h;
        double down = f(shifted);
        return (up - down) / (2 * h);
    }
}
