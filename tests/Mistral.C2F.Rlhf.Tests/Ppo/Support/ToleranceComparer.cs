namespace Mistral.C2F.Rlhf.Tests.Ppo.Support;

/// <summary>Compares doubles within an absolute tolerance; NaN equals NaN, so expected padding can be written as NaN.</summary>
internal sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => x.Equals(y) || Math.Abs(x - y) <= tolerance;

    public int GetHashCode(double value) => 0;
}
