using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>Means over the mini-batch updates of one PPO iteration (all epochs), as TRL averages its per-mini-batch stats.</summary>
public sealed class PpoUpdateStatistics
{
    private double _policyLoss, _valueLoss, _clipFraction, _valueClipFraction, _approxKl, _ratio, _entropy;

    public int Count { get; private set; }

    /// <summary>
    /// One mini-batch of <paramref name="tokens"/> response tokens, from the sums of its losses over every rank
    /// (<see cref="PpoLosses.PolicyStatistics"/> of the actor's, <see cref="PpoLosses.ValueStatistics"/> of the critic's).
    /// </summary>
    public void Add(IReadOnlyList<double> policy, IReadOnlyList<double> value, double tokens)
    {
        if (policy.Count != PpoLosses.PolicyStatistics || value.Count != PpoLosses.ValueStatistics)
            throw new ArgumentException($"a PPO update has {PpoLosses.PolicyStatistics} policy and {PpoLosses.ValueStatistics} value sums, got {policy.Count} and {value.Count}");
        _policyLoss += policy[PpoLosses.PolicySum] / tokens;
        _clipFraction += policy[PpoLosses.PolicyClipped] / tokens;
        _approxKl += 0.5 * policy[PpoLosses.SquaredLogRatioSum] / tokens;
        _ratio += policy[PpoLosses.RatioSum] / tokens;
        _entropy += policy[PpoLosses.EntropySum] / tokens;
        _valueLoss += 0.5 * value[PpoLosses.SquaredErrorSum] / tokens;
        _valueClipFraction += value[PpoLosses.ValueClipped] / tokens;
        Count++;
    }

    /// <summary>loss/policy_avg: mean over tokens of the clipped surrogate.</summary>
    public double PolicyLoss => Mean(_policyLoss);
    /// <summary>loss/value_avg: ½·mean of the larger squared error, without vf_coef, as TRL logs it.</summary>
    public double ValueLoss => Mean(_valueLoss);
    /// <summary>policy/clipfrac_avg.</summary>
    public double ClipFraction => Mean(_clipFraction);
    /// <summary>val/clipfrac_avg.</summary>
    public double ValueClipFraction => Mean(_valueClipFraction);
    /// <summary>policy/approxkl_avg: ½·mean (log ρ)².</summary>
    public double ApproxKl => Mean(_approxKl);
    /// <summary>val/ratio.</summary>
    public double Ratio => Mean(_ratio);
    /// <summary>policy/entropy_avg.</summary>
    public double Entropy => Mean(_entropy);

    private double Mean(double sum) =>
        Count > 0 ? sum / Count : throw new InvalidOperationException("no mini-batch update was added to the PPO statistics");
}
