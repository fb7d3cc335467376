using System.Text.Json.Serialization;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>Where a rollout's score comes from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RewardSource>))]
public enum RewardSource
{
    /// <summary>The reward model's score: the method as it is meant to run.</summary>
    [JsonStringEnumMemberName("reward_model")] RewardModel,
    /// <summary>
    /// The task's answer checker, 1 for a right final answer and 0 otherwise (a verifiable reward): the ablation that
    /// separates the reward model's errors from PPO's. Needs a checkable reference answer for every prompt.
    /// </summary>
    [JsonStringEnumMemberName("answer_checker")] AnswerChecker,
}
