using System.Text.Json;
using System.Text.Json.Serialization;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// A finished seed's measurements, kept beside its stages so that running a finished pipeline again redoes nothing, its
/// evaluations included (they are minutes a seed on 2 cores). Written last and atomically, so the file exists only for a
/// seed whose every stage is done; it records the options it was measured under, and other options measure the seed again.
/// </summary>
public static class PipelineResultFile
{
    public const string FileName = "result.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        // λ sweeps and per-combination accuracies are tuples (fields); a PPO log may hold NaN for a metric a run did not log.
        IncludeFields = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, WriteIndented = true,
    };

    /// <summary>The measurements saved in <paramref name="directory"/> under the same options, else null.</summary>
    public static PipelineReportInput? TryLoad(string directory, PipelineOptions options)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        Saved saved;
        try
        {
            saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(path), Json) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a pipeline result ({e.Message}); delete it to measure the seed again", e);
        }
        return saved.Options == Fingerprint(options) ? saved.Result : null;
    }

    public static void Save(string directory, PipelineOptions options, PipelineReportInput result) =>
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(new Saved(Fingerprint(options), result), Json) + "\n");

    private sealed record Saved(string Options, PipelineReportInput Result);

    private static string Fingerprint(PipelineOptions options) => JsonSerializer.Serialize(options, Json);
}
