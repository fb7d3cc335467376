using System.Text;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>The report as Markdown (docs/perf/gpu-check-&lt;card&gt;.md): the run's facts, the table, and what its columns mean.</summary>
public static class KernelBenchmarkMarkdown
{
    /// <param name="commit">The source's commit, when known.</param>
    public static string Write(KernelBenchmarkReport report, string? commit)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Kernel benchmarks: {report.Device}").AppendLine();
        text.AppendLine($"- date: {report.Date:yyyy-MM-dd HH:mm zzz}");
        text.AppendLine($"- shapes: {report.Scale}{(report.Scale == KernelBenchmarkScale.Tiny ? " (timings of tiny shapes say nothing about speed)" : " (Mistral-7B)")}");
        if (commit is not null) text.AppendLine($"- commit: {commit}");
        text.AppendLine();
        text.AppendLine(Line(KernelBenchmarkReport.Columns));
        text.AppendLine(Line(KernelBenchmarkReport.Columns.Select((_, i) => i < 2 ? "---" : "---:")));
        foreach (var row in report.Rows()) text.AppendLine(Line(row));
        text.AppendLine();
        foreach (var note in report.Notes()) text.AppendLine($"- {note}");
        return text.ToString();
    }

    private static string Line(IEnumerable<string> cells) => $"| {string.Join(" | ", cells.Select(c => c.Replace("|", "\\|")))} |";
}
