using System.CommandLine;
using System.Diagnostics;
using Mistral.C2F.Engine.Cuda;
using Mistral.C2F.Engine.Cuda.Benchmarks;
using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Cuda.Emulation;
using Mistral.C2F.Engine.Ilgpu;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f bench --mode kernels</c>: the kernel benchmark suite on a GPU (Mistral-7B shapes) or on the CPU emulator
/// (tiny shapes: checks the benchmarks run, says nothing about speed), with ILGPU's time for the same float32 ops
/// beside ours when ILGPU finds a CUDA GPU. Writes the plan torch_peers.py reads, takes the peers it writes, and
/// writes the Markdown report of the GPU check (tools/gpu-check/run.sh).
/// </summary>
internal static class KernelBenchMode
{
    public sealed class Options
    {
        public Option<string?> PlanOut { get; } = new("--plan-out") { Description = "kernels mode: write the benchmark plan (JSON for tools/gpu-check/torch_peers.py) here" };
        public Option<string?> Peers { get; } = new("--peers") { Description = "kernels mode: PyTorch's times (torch_peers.py's JSON) for the vs-PyTorch column" };
        public Option<string?> Report { get; } = new("--report") { Description = "kernels mode: write the results as Markdown here" };
        public Option<bool> PlanOnly { get; } = new("--plan-only") { Description = "kernels mode: write --plan-out and stop, timing nothing (the PyTorch peers are timed before the kernels)" };
    }

    public static void Run(ParseResult parse, Option<string> backendOption, Options options)
    {
        // Without --backend: the GPU when there is one, else the emulator.
        var backend = parse.GetResult(backendOption) is { Implicit: false } ? parse.GetRequiredValue(backendOption) : null;
        using var device = CreateDevice(backend);
        var suite = new KernelBenchmarkSuite(device is EmulatedDevice ? KernelBenchmarkScale.Tiny : KernelBenchmarkScale.Full);
        if (parse.GetValue(options.PlanOut) is { } planPath)
        {
            KernelBenchmarkPlan.Write(planPath, suite.All);
            AnsiConsole.MarkupLine($"[grey]plan of {suite.All.Count} cases written to {Markup.Escape(planPath)}[/]");
            if (parse.GetValue(options.PlanOnly)) return;
        }
        else if (parse.GetValue(options.PlanOnly)) throw new ArgumentException("--plan-only writes the plan: give --plan-out FILE");
        var peers = parse.GetValue(options.Peers) is { } peersPath ? KernelBenchmarkPlan.ReadPeers(peersPath) : null;

        var comparison = Comparison(device);
        try
        {
            var report = AnsiConsole.Status().Start("benchmarking", status =>
                KernelBenchmarkRunner.Run(device, suite, peers, comparison, name => status.Status(Markup.Escape(name))));
            Print(report);
            if (parse.GetValue(options.Report) is { } reportPath)
            {
                if (Path.GetDirectoryName(Path.GetFullPath(reportPath)) is { } directory) Directory.CreateDirectory(directory);
                File.WriteAllText(reportPath, KernelBenchmarkMarkdown.Write(report, Commit()));
                AnsiConsole.MarkupLine($"[grey]report written to {Markup.Escape(reportPath)}[/]");
            }
        }
        finally
        {
            comparison.Backend?.Dispose();
        }
    }

    private static IKernelDevice CreateDevice(string? backend)
    {
        string reason;
        switch (backend)
        {
            case "cuda":
                return CudaDriverDevice.TryCreate(out reason) ?? throw new NotSupportedException($"--mode kernels --backend cuda: {reason}");
            case "cuda-emu":
                return EmulatedDevice.TryCreate(out reason) ?? throw new NotSupportedException($"--mode kernels --backend cuda-emu: {reason}");
            case null:
                if (CudaDriverDevice.TryCreate(out var gpuReason) is { } gpu) return gpu;
                return EmulatedDevice.TryCreate(out reason)
                    ?? throw new NotSupportedException($"--mode kernels: no GPU ({gpuReason}) and no CPU emulator ({reason})");
            default:
                throw new ArgumentException($"--mode kernels times the hand-written CUDA kernels: --backend cuda or cuda-emu, not {backend}");
        }
    }

    /// <summary>ILGPU on the same GPU, or why not (ILGPU beside the emulator would compare a GPU with a CPU).</summary>
    private static BackendComparison Comparison(IKernelDevice device)
    {
        const string name = "ILGPU on CUDA";
        if (device is EmulatedDevice) return BackendComparison.None(name, "the kernels run on the CPU emulator; ILGPU is timed beside a GPU only");
        if (!IlgpuBackend.CudaAvailable(out var reason)) return BackendComparison.None(name, reason);
        var ilgpu = IlgpuBackend.Create(IlgpuDevice.Cuda);
        return new BackendComparison(name, ilgpu, ilgpu.Synchronize);
    }

    private static void Print(KernelBenchmarkReport report)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"kernels · {Markup.Escape(report.Device)} · {report.Scale} shapes")
            .AddColumns(KernelBenchmarkReport.Columns.Select((c, i) => i < 2 ? new TableColumn(c) : new TableColumn(c).RightAligned()).ToArray());
        foreach (var row in report.Rows()) table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
        foreach (var note in report.Notes()) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(note)}[/]");
    }

    /// <summary>The checkout's commit, or null outside a git checkout.</summary>
    private static string? Commit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (git is null) return null;
            var commit = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && commit.Length > 0 ? commit : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;  // no git on PATH
        }
    }
}
