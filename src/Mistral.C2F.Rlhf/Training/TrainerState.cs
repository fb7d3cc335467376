using System.Text.Json;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Data;

namespace Mistral.C2F.Rlhf.Training;

/// <summary>
/// Everything besides weights and optimizer moments that a resumed run needs to continue exactly: the step, the
/// data position, the skip counters, and a fingerprint of the tokenized data so a changed dataset is refused.
/// </summary>
public sealed record TrainerState(int Step, int OptimizerStep, DataPosition DataPosition, int SkippedSteps, int ConsecutiveSkips,
    string DataFingerprint)
{
    public const string FileName = "trainer_state.json";

    public void Save(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, RunJson.Options));

    public static TrainerState Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: trainer state not found; is this a training checkpoint?", path);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), RunJson.Options)
                ?? throw new InvalidDataException($"{path}: empty trainer state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed trainer state: {e.Message}", e);
        }
    }

    /// <summary>FNV-1a over every token of the tokenized data: cheap, and any change to the data or its tokenization shows.</summary>
    public static string Fingerprint(IEnumerable<int[]> sequences)
    {
        ulong hash = 14695981039346656037;
        foreach (var sequence in sequences)
        foreach (int value in sequence)
            hash = (hash ^ (uint)value) * 1099511628211;
        return hash.ToString("x16");
    }
}
