using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>Means over the mini-batch updates of one PPO iteration (all epochs), as TRL averages its per-mini-batch stats.</summary>
public sealed class PpoUpdateStatistics
{
    private double _policyLoss, _valueLoss, _clipFraction, _valueClipFraction, _approxKl, _ratio, _entropy;

    public int Count { get; private set; }

    public void Add(PolicyLoss policy, ValueLoss value, EntropyBonus entropy) =>
        Add([policy.Loss, policy.ClipFraction, policy.ApproxKl, policy.MeanRatio, value.UnweightedLoss, value.ClipFraction, entropy.MeanEntropy]);

    /// <summary>
    /// One mini-batch whose <paramref name="tokens"/> tokens on this rank are a share of it: its token means over the
    /// whole mini-batch, from every rank's share (one sum over the ranks).
    /// </summary>
    public void Add(PolicyLoss policy, ValueLoss value, EntropyBonus entropy, int tokens, ICommunicator communicator)
    {
        if (communicator.Size == 1)
        {
            Add(policy, value, entropy);
            return;
        }
        double[] sums = [policy.Loss, policy.ClipFraction, policy.ApproxKl, policy.MeanRatio, value.UnweightedLoss, value.ClipFraction, entropy.MeanEntropy, 1];
        for (int i = 0; i < sums.Length; i++) sums[i] *= tokens;
        communicator.AllReduceSum(sums);
        Add(sums[..^1].Select(sum => sum / sums[^1]).ToArray());
    }

    private void Add(double[] means)
    {
        _policyLoss += means[0];
        _clipFraction += means[1];
        _approxKl += means[2];
        _ratio += means[3];
        _valueLoss += means[4];
        _valueClipFraction += means[5];
        _entropy += means[6];
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
