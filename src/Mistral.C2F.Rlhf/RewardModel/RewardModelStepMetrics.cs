using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Rlhf.RewardModel;

/// <summary>One step of reward-model training; also one line of metrics.jsonl.</summary>
public sealed record RewardModelStepMetrics(int Step, int TotalSteps, double Loss, double Accuracy, double ChosenMean, double RejectedMean,
    double RewardStd, double LearningRate, double GradNorm, bool Skipped, bool NonFinite, double Epoch) : IStepReport
{
    public JsonObject ToJson() => new()
    {
        ["step"] = Step,
        ["loss"] = double.IsFinite(Loss) ? Loss : null,
        ["accuracy"] = Accuracy,
        ["rewards/chosen"] = ChosenMean,
        ["rewards/rejected"] = RejectedMean,
        ["rewards/margins"] = ChosenMean - RejectedMean,
        ["rewards/std"] = RewardStd,
        ["lr"] = LearningRate,
        ["grad_norm"] = double.IsFinite(GradNorm) ? GradNorm : null,
        ["skipped"] = Skipped,
        ["epoch"] = Math.Round(Epoch, 4),
    };
}
