using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Rlhf.Sft;

/// <summary>What one optimizer step did; also one line of metrics.jsonl.</summary>
public sealed record SftStepMetrics(int Step, int TotalSteps, double Loss, double LearningRate, double GradNorm, double TokensPerSecond,
    int LossTokens, bool Skipped, bool NonFinite, double Epoch) : IStepReport
{
    public JsonObject ToJson() => new()
    {
        ["step"] = Step,
        ["loss"] = double.IsFinite(Loss) ? Loss : null,
        ["lr"] = LearningRate,
        ["grad_norm"] = double.IsFinite(GradNorm) ? GradNorm : null,
        ["tokens_per_second"] = Math.Round(TokensPerSecond, 1),
        ["loss_tokens"] = LossTokens,
        ["skipped"] = Skipped,
        ["epoch"] = Math.Round(Epoch, 4),
    };
}
