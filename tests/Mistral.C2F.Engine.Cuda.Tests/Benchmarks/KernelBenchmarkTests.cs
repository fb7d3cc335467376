using System.Text.Json;
using System.Text.RegularExpressions;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Cuda.Benchmarks;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Benchmarks;

/// <summary>
/// The kernel benchmark suite at its tiny scale on the CPU emulator: every case runs and yields a time and a rate,
/// the plan carries what tools/gpu-check/torch_peers.py reads, and a peers file and a comparison backend fill
/// their columns. Emulator timings mean nothing, so nothing here asserts a speed.
/// </summary>
[Trait("Backend", "cuda-emu")]
public sealed partial class KernelBenchmarkTests(KernelDevices devices)
{
    /// <summary>Kinds the peer script has no PyTorch equivalent for.</summary>
    private static readonly string[] KindsWithoutPeer = ["sum_of_squares"];

    [Fact]
    public void Tiny_suite_times_every_case_with_peer_and_comparison_columns()
    {
        var suite = new KernelBenchmarkSuite(KernelBenchmarkScale.Tiny);
        var peersPath = Path.GetTempFileName();
        try
        {
            // Peers for every other case, so both a ratio and its absence show.
            var peers = suite.All.Where((_, i) => i % 2 == 0).ToDictionary(c => c.Name, _ => 1.0);
            File.WriteAllText(peersPath, JsonSerializer.Serialize(peers));
            using var cpu = new CpuBackend(1);
            var report = KernelBenchmarkRunner.Run(devices.Emulator, suite, KernelBenchmarkPlan.ReadPeers(peersPath),
                new BackendComparison(cpu.Name, cpu, () => { }));

            Assert.Equal(suite.All.Select(c => c.Name), report.Results.Select(r => r.Case.Name));
            Assert.True(report.CopyGigabytesPerSecond > 0 && report.Bf16Teraflops > 0);
            foreach (var r in report.Results)
            {
                Assert.True(double.IsFinite(r.Seconds) && r.Seconds > 0, $"{r.Case.Name}: time {r.Seconds}");
                Assert.True(double.IsFinite(r.Rate) && r.Rate > 0, $"{r.Case.Name}: rate {r.Rate}");
                Assert.True(double.IsFinite(r.RooflineFraction) && r.RooflineFraction > 0, $"{r.Case.Name}: roofline {r.RooflineFraction}");
                Assert.Equal(peers.ContainsKey(r.Case.Name) ? 1e-3 / r.Seconds : null, r.PeerRatio);
                Assert.Equal(r.Case.PrepareOnBackend is not null, r.ComparisonSeconds is > 0);
            }
            Assert.Contains(report.Results, r => r.ComparisonSeconds is not null);

            var markdown = KernelBenchmarkMarkdown.Write(report, commit: "abc123");
            Assert.All(suite.All, c => Assert.Contains($"| {c.Name} |", markdown));
            Assert.Contains(devices.Emulator.Name, markdown);
        }
        finally
        {
            File.Delete(peersPath);
        }
    }

    [Theory]
    [InlineData(KernelBenchmarkScale.Tiny)]
    [InlineData(KernelBenchmarkScale.Full)]
    public void Plan_gives_every_case_the_keys_torch_peers_reads_for_its_kind(KernelBenchmarkScale scale)
    {
        var peerKeys = TorchPeerKeys();
        Assert.Equal(["m", "k", "n"], peerKeys["matmul"]);  // the script is read as intended
        var suite = new KernelBenchmarkSuite(scale);
        using var plan = JsonDocument.Parse(KernelBenchmarkPlan.ToJson(suite.All));
        var entries = plan.RootElement.EnumerateArray().ToList();

        Assert.Equal(suite.All.Select(c => c.Name), entries.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal(entries.Count, entries.Select(e => e.GetProperty("name").GetString()).Distinct().Count());
        foreach (var entry in entries)
        {
            var (name, kind) = (entry.GetProperty("name").GetString(), entry.GetProperty("kind").GetString()!);
            if (KindsWithoutPeer.Contains(kind)) continue;
            Assert.True(peerKeys.TryGetValue(kind, out var keys), $"{name}: torch_peers.py has no kind '{kind}'");
            var shape = entry.GetProperty("shape");
            foreach (var key in keys)
                Assert.True(shape.TryGetProperty(key, out _), $"{name} ({kind}): the shape lacks '{key}', which torch_peers.py reads");
        }
    }

    /// <summary>
    /// Kind → the shape keys its peer function reads unconditionally (s["key"]), from the script itself:
    /// the PEERS table names each kind's function.
    /// </summary>
    private static Dictionary<string, string[]> TorchPeerKeys()
    {
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "gpu-check", "torch_peers.py"));  // copied there by the project
        var bodies = FunctionPattern().Matches(script).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var table = PeersTablePattern().Match(script);
        Assert.True(table.Success, "torch_peers.py: no PEERS table");
        return PeerEntryPattern().Matches(table.Groups[1].Value).ToDictionary(
            m => m.Groups[1].Value,
            m => ShapeKeyPattern().Matches(bodies[m.Groups[2].Value]).Select(k => k.Groups[1].Value).Distinct().ToArray());
    }

    [GeneratedRegex(@"^def (\w+)\(s\):\n(.*?)(?=^\S)", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FunctionPattern();

    [GeneratedRegex(@"^PEERS = \{(.*?)\}", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex PeersTablePattern();

    [GeneratedRegex(@"""(\w+)"":\s*(\w+)")]
    private static partial Regex PeerEntryPattern();

    [GeneratedRegex(@"s\[""(\w+)""\]")]
    private static partial Regex ShapeKeyPattern();
}
