using System.Text.Json;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Ppo.Training;

/// <summary>What a resumed PPO run needs besides the actor's and critic's weights and moments.</summary>
public sealed record PpoState(int Iteration, int ActorOptimizerStep, int CriticOptimizerStep, DataPosition DataPosition, int SkippedSteps,
    int ConsecutiveSkips, IKlController KlController, ContinuousMaximizationState LengthLimit, RunningMoments ScoreMoments, string DataFingerprint)
{
    public const string FileName = "ppo_state.json";

    public void Save(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, RunJson.Options));

    public static PpoState Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: PPO state not found; is this a PPO checkpoint?", path);
        try
        {
            return JsonSerializer.Deserialize<PpoState>(File.ReadAllText(path), RunJson.Options) ?? throw new InvalidDataException($"{path}: empty PPO state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed PPO state: {e.Message}", e);
        }
    }
}
