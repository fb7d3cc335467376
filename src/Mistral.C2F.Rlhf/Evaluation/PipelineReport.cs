using System.Text;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The pipeline's report: a Markdown file with the stage table, a table per PPO run and the PPO plots beside it as PNGs.
/// </summary>
public static class PipelineReport
{
    public const string MarkdownFileName = "report.md";
    public const string Title = "Coarse-to-Fine pipeline report";

    /// <summary>The Markdown of the report; it links the plots of <see cref="PpoPlots"/> by file name.</summary>
    public static string Render(PipelineReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var markdown = new StringBuilder($"# {Title}\n\n## Stages\n\n")
            .Append(StageTable.Render(input.Stages)).Append('\n').Append(StageTable.Legend).Append('\n');
        if (input.PpoRuns.Count == 0) return markdown.ToString();

        markdown.Append("\n## PPO iterations\n");
        foreach (var run in input.PpoRuns)
            markdown.Append($"\n### {run.Name}\n\n").Append(PpoIterationTable.Render(run));
        markdown.Append("\n## PPO plots\n\n");
        foreach (var plot in PpoPlots.Files) markdown.Append($"![{plot.Caption}]({plot.FileName})\n");
        return markdown.ToString();
    }

    /// <summary>
    /// Writes report.md and the plots into <paramref name="directory"/> and returns the Markdown. Every file is written
    /// under a temporary name and all are finished before any is renamed, report.md last: a crash leaves the previous
    /// report, and a report.md on disk always has its plots beside it.
    /// </summary>
    public static string Write(string directory, PipelineReportInput input)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var markdown = Render(input);
        var plots = input.PpoRuns.Count == 0 ? [] : PpoPlots.Render(input.PpoRuns);
        var pending = new List<PendingFile>();
        try
        {
            foreach (var plot in plots) Add(plot.FileName, plot.Png);
            Add(MarkdownFileName, Encoding.UTF8.GetBytes(markdown));
            foreach (var file in pending) file.Close();
            foreach (var file in pending) file.Commit();
        }
        finally
        {
            foreach (var file in pending) file.Dispose();
        }
        return markdown;

        void Add(string fileName, byte[] content)
        {
            var file = new PendingFile(Path.Combine(directory, fileName));
            pending.Add(file);
            file.Stream.Write(content);
        }
    }

}
