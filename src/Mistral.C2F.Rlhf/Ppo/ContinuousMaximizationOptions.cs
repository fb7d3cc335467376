namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// Constants of Continuous Maximization (docs/DEFINITIONS.md, "The method"): the rollout length limit of PPO iteration k + 1 is
/// L_{k+1} = clamp(round(L_k·(1 + γ·g_k)), L_k, L_max) with the gate g_k = σ(a·(R̄_k − V̄_k)/(s_R + ε) + b·(τ_k − τ*)).
/// </summary>
public sealed record ContinuousMaximizationOptions
{
    /// <summary>a: weight of the reward surprise, the mean score above the critic's first-token value in running score
    /// standard deviations. 1: one standard deviation of surprise moves the gate's logit by one, as far as a
    /// truncation rate 10 points above target does.</summary>
    public double RewardGain { get; init; } = 1.0;

    /// <summary>b: weight of the truncation excess τ − τ*. 10: ten points of excess move the logit by one; with none
    /// of the rollouts cut (τ = 0) the logit starts at −1 (g = 0.27), so the limit grows slowly when it is not in the way.</summary>
    public double TruncationGain { get; init; } = 10.0;

    /// <summary>γ: the most the limit can grow in one iteration, as a fraction (g → 1); 0.1 is at most +10 %, so
    /// L_0 reaches L_max = 4·L_0 in no fewer than 15 iterations.</summary>
    public double GrowthRate { get; init; } = 0.1;

    /// <summary>τ*: the share of rollouts cut at the limit that counts as neither too many nor too few.</summary>
    public double TargetTruncationRate { get; init; } = 0.1;

    /// <summary>ε: keeps the reward term finite when all scores seen so far are equal (s_R = 0).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>L_0: the first iteration's limit, in response tokens (TRL's response_length in the fixed mode).</summary>
    public int InitialLengthLimit { get; init; } = 256;

    /// <summary>L_max: the limit never grows past this.</summary>
    public int MaxLengthLimit { get; init; } = 1024;

    /// <summary>Ablation: the limit stays L_0; the gate is still computed and logged.</summary>
    public bool FixedLimit { get; init; }

    public void Validate()
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new ArgumentException($"invalid Continuous Maximization options: {problem}");
        }
        Require(double.IsFinite(RewardGain) && RewardGain >= 0, $"the reward gain a must be finite and ≥ 0, got {RewardGain}");
        Require(double.IsFinite(TruncationGain) && TruncationGain >= 0, $"the truncation gain b must be finite and ≥ 0, got {TruncationGain}");
        Require(double.IsFinite(GrowthRate) && GrowthRate >= 0, $"the growth rate γ must be finite and ≥ 0, got {GrowthRate}");
        Require(TargetTruncationRate is >= 0 and <= 1, $"the target truncation rate τ* must be in [0, 1], got {TargetTruncationRate}");
        Require(Epsilon is > 0 and < double.PositiveInfinity, $"ε must be finite and > 0, got {Epsilon}");
        Require(InitialLengthLimit >= 1, $"the initial length limit must be ≥ 1, got {InitialLengthLimit}");
        Require(MaxLengthLimit >= InitialLengthLimit,
            $"the maximum length limit {MaxLengthLimit} must be at least the initial limit {InitialLengthLimit}");
    }
}
