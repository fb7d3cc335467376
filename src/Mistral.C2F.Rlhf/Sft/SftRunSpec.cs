using System.Text.Json;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Rlhf.Sft;

/// <summary>What an SFT run trains (the model it starts from, its data) and how; saved in the run directory so --resume needs nothing else.</summary>
public sealed record SftRunSpec(string ModelDirectory, string DataPath, SftOptions Options)
{
    public const string FileName = "sft_run.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void Save(string runDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(this, Json));

    public static SftRunSpec Load(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: {runDirectory} is not an SFT run directory", path);
        try
        {
            return JsonSerializer.Deserialize<SftRunSpec>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty run description");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed run description: {e.Message}", e);
        }
    }
}
