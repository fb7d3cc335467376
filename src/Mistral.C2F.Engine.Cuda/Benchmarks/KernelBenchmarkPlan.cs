using System.Text.Json;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// The files shared with tools/gpu-check/torch_peers.py: the plan it reads ([{"name", "kind", "shape"}], one entry
/// per case) and the peers it writes ({"name": milliseconds}).
/// </summary>
public static class KernelBenchmarkPlan
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string ToJson(IEnumerable<KernelBenchmarkCase> cases) =>
        JsonSerializer.Serialize(cases.Select(c => new Dictionary<string, object>
        {
            ["name"] = c.Name,
            ["kind"] = c.Kind,
            ["shape"] = c.PeerShape,
        }), Indented);

    public static void Write(string path, IEnumerable<KernelBenchmarkCase> cases) => File.WriteAllText(path, ToJson(cases));

    /// <summary>PyTorch's milliseconds per case name.</summary>
    public static IReadOnlyDictionary<string, double> ReadPeers(string path) =>
        JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(path))
        ?? throw new InvalidDataException($"{path}: expected a JSON object of case name → milliseconds");
}
