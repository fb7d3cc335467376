using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mistral.C2F.Engine.Training;

/// <summary>
/// Metrics as JSON lines, one object per step, flushed as written. Reopened for a resumed run, it keeps only the
/// steps up to the checkpoint, so steps that are redone after a crash are not logged twice.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    public MetricsLog(string path, int resumedFromStep = 0)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var kept = resumedFromStep > 0 && File.Exists(Path)
            ? File.ReadLines(Path).Where(line => StepOf(line) is int step && step <= resumedFromStep).ToList()
            : [];
        File.WriteAllLines(Path, kept);
        _writer = new StreamWriter(new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public string Path { get; }

    public void Write(JsonObject metrics) => _writer.WriteLine(metrics.ToJsonString());

    public void Dispose() => _writer.Dispose();

    private static int? StepOf(string line)
    {
        try
        {
            return JsonNode.Parse(line)?["step"]?.GetValue<int>();
        }
        catch (JsonException)
        {
            return null; // a line cut short by a crash
        }
    }
}
