namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>Means over the mini-batch updates of one PPO iteration (all epochs), as TRL averages its per-mini-batch stats.</summary>
public sealed class PpoUpdateStatistics
{
    private double _policyLoss, _valueLoss, _clipFraction, _valueClipFraction, _approxKl, _ratio, _entropy;

    public int Count { get; private set; }

    public void Add(PolicyLoss policy, ValueLoss value, EntropyBonus entropy)
    {
        _policyLoss += policy.Loss;
        _clipFraction += policy.ClipFraction;
        _approxKl += policy.ApproxKl;
        _ratio += policy.MeanRatio;
        _valueLoss += value.UnweightedLoss;
        _valueClipFraction += value.ClipFraction;
        _entropy += entropy.MeanEntropy;
        Count++;
    }

    /// <summary>loss/policy_avg.</summary>
    public double PolicyLoss => Mean(_policyLoss);
    /// <summary>loss/value_avg: without vf_coef, as TRL logs it.</summary>
    public double ValueLoss => Mean(_valueLoss);
    /// <summary>policy/clipfrac_avg.</summary>
    public double ClipFraction => Mean(_clipFraction);
    /// <summary>val/clipfrac_avg.</summary>
    public double ValueClipFraction => Mean(_valueClipFraction);
    /// <summary>policy/approxkl_avg.</summary>
    public double ApproxKl => Mean(_approxKl);
    /// <summary>val/ratio.</summary>
    public double Ratio => Mean(_ratio);
    /// <summary>policy/entropy_avg.</summary>
    public double Entropy => Mean(_entropy);

    private double Mean(double sum) =>
        Count > 0 ? sum / Count : throw new InvalidOperationException("no mini-batch update was added to the PPO statistics");
}
