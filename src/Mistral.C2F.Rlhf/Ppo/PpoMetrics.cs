namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>The metric keys of a PPO iteration: TRL's (and OpenRLHF's response_length), plus cm/… for Continuous Maximization.</summary>
public static class PpoMetrics
{
    public const string Kl = "objective/kl";
    public const string KlCoef = "objective/kl_coef";
    public const string Entropy = "objective/entropy";
    public const string NonScoreReward = "objective/non_score_reward";
    public const string RlhfReward = "objective/rlhf_reward";
    public const string Scores = "objective/scores";
    public const string ApproxKl = "policy/approxkl_avg";
    public const string ClipFraction = "policy/clipfrac_avg";
    public const string PolicyEntropy = "policy/entropy_avg";
    public const string PolicyLoss = "loss/policy_avg";
    public const string ValueLoss = "loss/value_avg";
    public const string ValueClipFraction = "val/clipfrac_avg";
    public const string Ratio = "val/ratio";
    public const string NumEosTokens = "val/num_eos_tokens";
    public const string ResponseLength = "response_length";
    public const string LengthLimit = "cm/length_limit";
    public const string NextLengthLimit = "cm/next_length_limit";
    public const string Gate = "cm/gate";
    public const string TruncationRate = "cm/truncation_rate";
    /// <summary>The actor's learning rate this iteration (lr, as TRL logs it).</summary>
    public const string LearningRate = "lr";
    /// <summary>Mean raw reward-model score of the rollouts, whatever the reward (with the answer checker as the reward, objective/scores is its).</summary>
    public const string RewardModelScores = "rm/scores";
    /// <summary>Share of rollouts whose final answer is right, where prompts carry reference answers.</summary>
    public const string Accuracy = "objective/accuracy";
    /// <summary>ROC AUC of the reward model's score against the answer checker on this iteration's rollouts: how well it still ranks the policy's own samples.</summary>
    public const string RewardModelAuc = "rm/auc";
    /// <summary>Greedy accuracy on the validation prompts after this iteration's update.</summary>
    public const string EvalAccuracy = "eval/accuracy";

    /// <summary>One iteration's metrics by key.</summary>
    /// <param name="klCoef">The β the rollouts' rewards were computed with.</param>
    public static Dictionary<string, double> Collect(RolloutSummary rollout, double klCoef, PpoUpdateStatistics updates,
        ContinuousMaximizationUpdate lengthLimit) => new()
    {
        [Kl] = rollout.Kl,
        [KlCoef] = klCoef,
        [Entropy] = rollout.Entropy,
        [NonScoreReward] = rollout.NonScoreReward,
        [RlhfReward] = rollout.RlhfReward,
        [Scores] = rollout.Score,
        [ApproxKl] = updates.ApproxKl,
        [ClipFraction] = updates.ClipFraction,
        [PolicyEntropy] = updates.Entropy,
        [PolicyLoss] = updates.PolicyLoss,
        [ValueLoss] = updates.ValueLoss,
        [ValueClipFraction] = updates.ValueClipFraction,
        [Ratio] = updates.Ratio,
        [NumEosTokens] = rollout.EosCount,
        [ResponseLength] = rollout.MeanLength,
        [LengthLimit] = lengthLimit.LimitBefore,
        [NextLengthLimit] = lengthLimit.LimitAfter,
        [Gate] = lengthLimit.Gate,
        [TruncationRate] = lengthLimit.TruncationRate,
    };
}
