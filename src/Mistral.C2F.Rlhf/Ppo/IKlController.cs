using System.Text.Json.Serialization;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// Chooses β, the coefficient of the KL penalty in the rewards. Controllers are immutable values: an update returns the
/// next controller, and serialising one as <see cref="IKlController"/> (with its "kind") is its checkpoint.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(FixedKlController), "fixed")]
[JsonDerivedType(typeof(AdaptiveKlController), "adaptive")]
public interface IKlController
{
    /// <summary>β for the next rollouts' rewards (objective/kl_coef).</summary>
    double Coefficient { get; }

    /// <summary>The controller after a batch whose mean per-response KL (objective/kl: KL summed over each response, then averaged) was <paramref name="observedKl"/>.</summary>
    /// <param name="steps">Rollouts in the batch (TRL's n_steps, the batch size).</param>
    IKlController Update(double observedKl, int steps);
}
