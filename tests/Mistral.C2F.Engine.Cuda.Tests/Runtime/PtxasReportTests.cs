using System.Globalization;
using System.Text.RegularExpressions;
using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>
/// The embedded PTX assembled by ptxas for each architecture: no kernel may spill, and none may use more
/// registers than 255 or than its __launch_bounds__ leave a thread (65536 / (threads · min blocks per SM)).
/// Skips without ptxas or without embedded PTX (built without nvcc).
/// </summary>
[Trait("Backend", "ptx")]
public sealed partial class PtxasReportTests
{
    private const int RegistersPerSm = 65536;
    private const int MaxRegistersPerThread = 255;

    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void Every_kernel_fits_its_registers_without_spilling(string architecture)
    {
        var ptxas = CudaToolkit.Find("ptxas");
        Assert.SkipWhen(ptxas is null, "no ptxas on PATH or in $CUDA_HOME/bin");
        var library = PtxLibrary.Embedded;
        var number = int.Parse(architecture["sm_".Length..], CultureInfo.InvariantCulture);
        Assert.SkipUnless(library.Architectures.Contains(number), $"no PTX embedded for {architecture} (built without nvcc)");

        var problems = new List<string>();
        foreach (var module in library.Modules(number))
        {
            var ptx = library.Text(number, module);
            var budgets = RegisterBudgets(ptx);
            foreach (var report in PtxasReport.Assemble(ptxas!, ptx, architecture))
            {
                var budget = budgets.GetValueOrDefault(report.Function, MaxRegistersPerThread);
                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"{architecture} {module}.ptx {report.Function}: {report.Registers} registers (budget {budget}), " +
                    $"spills {report.SpillStoreBytes} B stored / {report.SpillLoadBytes} B loaded");
                if (report.SpillStoreBytes > 0 || report.SpillLoadBytes > 0)
                    problems.Add($"{report.Function} spills {report.SpillStoreBytes} B / {report.SpillLoadBytes} B");
                if (report.Registers > budget)
                    problems.Add($"{report.Function} uses {report.Registers} registers, over its budget of {budget}");
            }
        }
        Assert.True(problems.Count == 0, $"{architecture}: {string.Join("; ", problems)}");
    }

    [Fact]
    public void Launch_bounds_set_the_register_budget()
    {
        const string ptx = """
            .visible .entry bounded(
                .param .u64 bounded_param_0
            )
            .maxntid 256, 1, 1
            .minnctapersm 2
            {
            }
            .visible .entry free(
            )
            {
            }
            """;
        var budgets = RegisterBudgets(ptx);
        Assert.Equal(RegistersPerSm / (256 * 2), budgets["bounded"]);
        Assert.Equal(MaxRegistersPerThread, budgets["free"]);
    }

    [Fact]
    public void The_ptxas_report_is_read_per_function()
    {
        const string output = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'k1' for 'sm_80'
            ptxas info    : Function properties for k1
                0 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads
            ptxas info    : Used 40 registers, 388 bytes cmem[0]
            ptxas info    : Compiling entry function 'k2' for 'sm_80'
            ptxas info    : Function properties for k2
                0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 12 registers, 372 bytes cmem[0]
            """;
        Assert.Equal([new PtxasReport("k1", 40, 8, 4), new PtxasReport("k2", 12, 0, 0)], PtxasReport.Parse(output));
    }

    /// <summary>Each entry's register budget: 255, or less where .maxntid (and .minnctapersm) promise many threads per SM.</summary>
    private static Dictionary<string, int> RegisterBudgets(string ptx) =>
        EntryHeader().Matches(ptx).ToDictionary(entry => entry.Groups[1].Value, entry =>
        {
            var directives = entry.Groups[2].Value;
            var threads = MaxThreads().Match(directives) is { Success: true } t
                ? t.Groups.Values.Skip(1).Select(g => int.Parse(g.Value, CultureInfo.InvariantCulture)).Aggregate(1, (a, b) => a * b)
                : 0;
            var blocks = MinBlocks().Match(directives) is { Success: true } b ? int.Parse(b.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
            return threads == 0 ? MaxRegistersPerThread : Math.Min(MaxRegistersPerThread, RegistersPerSm / (threads * blocks));
        });

    /// <summary>An entry's name and the directives between its parameter list and its body.</summary>
    [GeneratedRegex(@"\.entry\s+([A-Za-z_][A-Za-z0-9_$]*)\s*\([^)]*\)([^{]*)\{")]
    private static partial Regex EntryHeader();

    [GeneratedRegex(@"\.maxntid\s+(\d+)\s*,\s*(\d+)\s*,\s*(\d+)")]
    private static partial Regex MaxThreads();

    [GeneratedRegex(@"\.minnctapersm\s+(\d+)")]
    private static partial Regex MinBlocks();
}
