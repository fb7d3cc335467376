using Mistral.C2F.Rlhf.Data;
using System.Text.Json;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Sft;

/// <summary>
/// Everything besides weights and optimizer moments that a resumed run needs to continue exactly: the step, the
/// data position, the skip counters, and a fingerprint of the packed data so a changed dataset is refused.
/// </summary>
public sealed record SftTrainerState(int Step, int OptimizerStep, DataPosition DataPosition, int SkippedSteps, int ConsecutiveSkips,
    string DataFingerprint)
{
    public const string FileName = "trainer_state.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void Save(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Json));

    public static SftTrainerState Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: trainer state not found; is this a checkpoint of an SFT run?", path);
        try
        {
            return JsonSerializer.Deserialize<SftTrainerState>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty trainer state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed trainer state: {e.Message}", e);
        }
    }
}
