using System.Text.Json;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Rlhf.Training;

/// <summary>What a run trains (the model it starts from, its data) and how; saved in the run directory so --resume needs nothing else.</summary>
public sealed record RunSpec<TOptions>(string ModelDirectory, string DataPath, TOptions Options) where TOptions : IRunOptions
{
    public const string FileName = "run.json";

    public void Save(string runDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(this, RunJson.Options));

    /// <summary>
    /// The description a resumed run continues with: the saved one, with <paramref name="change"/> applied to its options
    /// (a longer run, another checkpoint interval), checked and saved back, so a later resume continues with it too.
    /// </summary>
    public static RunSpec<TOptions> Resumed(string runDirectory, Func<TOptions, TOptions>? change)
    {
        var spec = Load(runDirectory);
        if (change is null) return spec;
        spec = spec with { Options = change(spec.Options) };
        spec.Options.Validate();
        spec.Save(runDirectory);
        return spec;
    }

    public static RunSpec<TOptions> Load(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: {runDirectory} is not a run directory", path);
        try
        {
            return JsonSerializer.Deserialize<RunSpec<TOptions>>(File.ReadAllText(path), RunJson.Options) ?? throw new InvalidDataException($"{path}: empty run description");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed run description: {e.Message}", e);
        }
    }
}
