using System.Text.Json.Serialization;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// Per-token estimators of KL(π‖π_ref) from a token sampled from π (Schulman, "Approximating KL divergence"); TRL's
/// kl_estimator. Both are unbiased; only k3 is never negative.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<KlEstimator>))]
public enum KlEstimator
{
    /// <summary>k1 = log π − log π_ref: negative on every token the policy finds less likely than the reference, so a
    /// batch's sum can go negative too (a known symptom, not a bug of the estimate).</summary>
    [JsonStringEnumMemberName("k1")] K1,

    /// <summary>k3 = (r − 1) − log r with r = π_ref/π: never negative (r − 1 ≥ log r), lower variance than k1.</summary>
    [JsonStringEnumMemberName("k3")] K3,
}
