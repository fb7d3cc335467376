namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// Ziegler et al. (2019), TRL's AdaptiveKLController: β follows a proportional controller towards a target KL,
/// e = clip(KL/target − 1, −0.2, 0.2), β ← β·(1 + e·n_steps/horizon).
/// </summary>
/// <param name="Coefficient">β now.</param>
/// <param name="Target">KL per response the controller steers to (TRL's target).</param>
/// <param name="Horizon">Rollouts over which a constant error changes β by about e·100 % (TRL's horizon).</param>
public sealed record AdaptiveKlController(double Coefficient, double Target, double Horizon) : IKlController
{
    /// <summary>The proportional error is clipped to ±this, so one odd batch moves β by little.</summary>
    public const double MaxProportionalError = 0.2;

    public IKlController Update(double observedKl, int steps)
    {
        if (!double.IsFinite(observedKl)) throw new ArgumentOutOfRangeException(nameof(observedKl), observedKl, "the observed KL must be finite");
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be ≥ 0");
        double error = Math.Clamp(observedKl / Target - 1, -MaxProportionalError, MaxProportionalError);
        return this with { Coefficient = Coefficient * (1 + error * steps / Horizon) };
    }
}
