namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>β stays what it was set to (TRL's FixedKLController).</summary>
public sealed record FixedKlController(double Coefficient) : IKlController
{
    public IKlController Update(double observedKl, int steps) => this;
}
