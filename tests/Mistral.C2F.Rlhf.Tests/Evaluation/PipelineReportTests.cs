using System.Buffers.Binary;
using System.Text.Json;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>The report: every stage and metric in the table, a table per PPO run, real PNG plots, written atomically.</summary>
[Trait("Backend", "cpu")]
public sealed class PipelineReportTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly string[] StageNames = ["base", "instruct", "coarse actor", "fine actor", "coarse actor (fixed limit)"];

    private static readonly string[] PlotFiles = ["ppo-kl.png", "ppo-length-limit.png", "ppo-response-length.png", "ppo-reward.png"];

    [Fact]
    public void The_stage_table_has_every_stage_and_every_metric_with_units()
    {
        var markdown = PipelineReport.Render(SampleInput());

        var lines = markdown.Split('\n');
        Assert.Contains("| stage | accuracy (%) | RM score (mean) | length (tokens, mean) | EOS (%) | repeated 4-grams (%) | repeated sentences (%) | perplexity (held-out) |", lines);
        Assert.Contains("| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", lines);
        foreach (var stage in StageNames)
            Assert.Single(lines, line => line.StartsWith($"| {stage} | ", StringComparison.Ordinal));
        // The coarse actor's row, every number at four significant digits.
        Assert.Contains("| coarse actor | 62.50 | 1.235 | 41.27 | 81.25 | 12.35 | 6.250 | 3.142 |", lines);
        Assert.Contains("| base | 20.31 | – | 17.00 | 93.75 | 0 | 0 | 2.718 |", lines);
    }

    [Fact]
    public void A_pipe_in_a_stage_name_stays_inside_its_cell()
    {
        var input = SampleInput() with { Stages = [SampleInput().Stages[0] with { Name = "base|merged" }] };

        Assert.Contains("| base\\|merged | 20.31 |", PipelineReport.Render(input));
    }

    [Fact]
    public void Each_ppo_run_has_a_table_and_the_plots_are_linked()
    {
        var markdown = PipelineReport.Render(SampleInput());

        Assert.Contains("### CM\n", markdown);
        Assert.Contains("### fixed limit\n", markdown);
        Assert.Contains("| iteration | RM score (mean) | KL (nats) | length limit (tokens) | response length (tokens, mean) | truncated (%) |\n| ---: | ---: |", markdown);
        Assert.Contains("| 3 | 0.3000 | 0.04500 | 40 | 29.50 | 37.50 |", markdown);
        foreach (var file in PlotFiles) Assert.Contains($"]({file})", markdown);
    }

    [Fact]
    public void Writing_leaves_the_report_and_four_png_plots_and_nothing_else()
    {
        using var directory = new TemporaryDirectory();

        var markdown = PipelineReport.Write(directory.Path, SampleInput());

        Assert.Equal(PlotFiles.Append(PipelineReport.MarkdownFileName).Order(StringComparer.Ordinal), directory.FileNames());
        Assert.Equal(markdown, File.ReadAllText(directory.File(PipelineReport.MarkdownFileName)));
        foreach (var file in PlotFiles) AssertPng(File.ReadAllBytes(directory.File(file)));
    }

    [Fact]
    public void Writing_again_replaces_the_report_and_without_ppo_runs_there_are_no_plots()
    {
        using var directory = new TemporaryDirectory();
        PipelineReport.Write(directory.Path, SampleInput());

        var markdown = PipelineReport.Write(directory.Path, SampleInput() with { PpoRuns = [] });

        Assert.DoesNotContain("PPO", markdown);
        Assert.Equal(markdown, File.ReadAllText(directory.File(PipelineReport.MarkdownFileName)));
        // The old plots stay (nothing deletes files it did not write), and no temporary is left behind.
        Assert.Equal(PlotFiles.Append(PipelineReport.MarkdownFileName).Order(StringComparer.Ordinal), directory.FileNames());
    }

    [Fact]
    public void A_single_run_plots_without_a_legend_and_an_empty_run_still_renders()
    {
        var plots = PpoPlots.Render([SampleInput().PpoRuns[0], new PpoRunLog("empty", [])]);

        Assert.Equal(PlotFiles, plots.Select(plot => plot.FileName).Order(StringComparer.Ordinal));
        Assert.All(plots, plot => AssertPng(plot.Png));
        Assert.All(PpoPlots.Render([SampleInput().PpoRuns[0]]), plot => AssertPng(plot.Png));
    }

    [Fact]
    public void The_input_is_plain_serialisable_data()
    {
        var json = JsonSerializer.Serialize(SampleInput());

        var back = JsonSerializer.Deserialize<PipelineReportInput>(json)!;

        Assert.Equal(json, JsonSerializer.Serialize(back));
        Assert.Equal(PipelineReport.Render(SampleInput()), PipelineReport.Render(back));
    }

    private static void AssertPng(byte[] png)
    {
        Assert.Equal(PngSignature, png.Take(8));
        // The first chunk is IHDR with the width and height, big-endian.
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal(PpoPlots.Width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(PpoPlots.Height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        // Axes, lines and labels: a blank image of this size compresses to far less.
        Assert.True(png.Length > 10_000, $"only {png.Length} bytes");
    }

    /// <summary>Made-up numbers in the pipeline's shape: four stages and an ablation, PPO with CM and with a fixed limit.</summary>
    internal static PipelineReportInput SampleInput()
    {
        StageMetrics Metrics(double accuracy, double? score, double length, double eos, double ngrams, double sentences, double? perplexity) =>
            new(new ResponseMetrics(64, accuracy, length, eos, ngrams, sentences), score, perplexity);

        return new PipelineReportInput(
            [
                new("base", Metrics(0.203125, null, 17, 0.9375, 0, 0, Math.E)),
                new("instruct", Metrics(0.34375, -0.4321, 3.0625, 1, 0, 0, 2.9)),
                new("coarse actor", Metrics(0.625, 1.23456, 41.2656, 0.8125, 0.123456, 0.0625, Math.PI)),
                new("fine actor", Metrics(0.578125, 0.98765, 22.5, 0.984375, 0.0123, 0, 2.95)),
                new("coarse actor (fixed limit)", Metrics(0.5, 0.5, 24, 0.5, 0.05, 0.03125, 3.3)),
            ],
            [
                new("CM", Enumerable.Range(1, 12).Select(k => new PpoIterationRecord(
                    k, -0.6 + 0.15 * k, 0.015 * k, 24 + 8 * (k / 2), 18 + 3.5 * k, 0.5 / k)).ToArray()),
                new("fixed limit", Enumerable.Range(1, 12).Select(k => new PpoIterationRecord(
                    k, 0.1 * k, 0.015 * k, 40, 26.5 + k, 0.375)).ToArray()),
            ]);
    }
}
