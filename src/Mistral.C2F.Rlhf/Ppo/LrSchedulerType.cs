using System.Text.Json.Serialization;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>lr_scheduler_type of the actor's and the critic's learning rates over a PPO run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LrSchedulerType>))]
public enum LrSchedulerType
{
    [JsonStringEnumMemberName("constant")] Constant,
    /// <summary>Cosine decay over the run's iterations to a tenth of the peak (OpenRLHF's default).</summary>
    [JsonStringEnumMemberName("cosine_with_min_lr")] CosineWithMinLr,
}
