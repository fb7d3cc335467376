using System.Text.Json.Nodes;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>Two runs' metrics.jsonl compared line by line, figure by figure.</summary>
public static class MetricsLines
{
    public static List<JsonNode> Read(string runDirectory) =>
        File.ReadLines(Path.Combine(runDirectory, "metrics.jsonl")).Select(line => JsonNode.Parse(line)!).ToList();

    /// <summary>
    /// As many lines in <paramref name="actual"/> as in <paramref name="expected"/>, each of <paramref name="figures"/>
    /// within <paramref name="tolerance"/> of the expected value, relative with a floor of 1.
    /// </summary>
    public static void AssertClose(List<JsonNode> expected, List<JsonNode> actual, IEnumerable<string> figures, double tolerance, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int line = 0; line < expected.Count; line++)
            foreach (var figure in figures)
            {
                double want = expected[line][figure]!.GetValue<double>(), got = actual[line][figure]!.GetValue<double>();
                Assert.True(Math.Abs(got - want) <= tolerance * Math.Max(1, Math.Abs(want)), $"{what}: line {line + 1} {figure}: {got} vs {want}");
            }
    }
}
