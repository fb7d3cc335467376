using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Rlhf.Ppo.Training;

/// <summary>One PPO iteration, with TRL's metric names (<see cref="PpoMetrics"/>); one line of metrics.jsonl.</summary>
public sealed record PpoIterationMetrics(int Step, int TotalSteps, IReadOnlyDictionary<string, double> Metrics, double Seconds, bool Skipped,
    bool NonFinite) : IStepReport
{
    public double this[string key] => Metrics[key];

    public JsonObject ToJson()
    {
        var json = new JsonObject { ["step"] = Step };
        foreach (var (key, value) in Metrics) json[key] = double.IsFinite(value) ? value : null;
        json["seconds"] = Math.Round(Seconds, 3);
        json["skipped"] = Skipped;
        return json;
    }
}
