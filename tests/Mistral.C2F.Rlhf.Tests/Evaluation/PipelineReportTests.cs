using System.Buffers.Binary;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Pipeline;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>The report over seeds: claims with paired effects and intervals, stage means with intervals, every seed, PNG plots.</summary>
[Trait("Backend", "cpu")]
public sealed class PipelineReportTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly string[] PlotFiles =
        ["ppo-kl.png", "ppo-length-limit.png", "ppo-reward.png", "ppo-response-length.png", "ppo-rm-auc.png", "ppo-validation-accuracy.png"];

    [Fact]
    public void One_seed_shows_the_values_without_intervals_and_no_claim_holds()
    {
        var markdown = PipelineReport.Render([Seed(0, coarseAccuracy: 0.625)]);
        var lines = markdown.Split('\n');
        Assert.Contains("One seed: no interval", markdown);
        Assert.Contains("| stage | accuracy (%) | carries right (%) | RM score (mean) | length (tokens, mean) | EOS (%) | idle sentences (%) | repeated 4-grams (%) | repeated sentences (%) | perplexity (held-out) |", lines);
        Assert.Contains("| coarse actor (CM) | 62.50 | 25.00 | 1.235 | 41.27 | 81.25 | 20.00 | 12.35 | 6.250 | 3.142 |", lines);
        Assert.DoesNotContain("**holds**", markdown);
        Assert.Contains("**does not hold**", markdown);
    }

    /// <summary>
    /// Five seeds whose coarse actor beats the fixed limit by 10 ± 1 points: the effect's interval is computed from the paired
    /// differences, lies above zero, and claim (a) holds when the score difference does too.
    /// </summary>
    [Fact]
    public void Claims_use_paired_differences_over_seeds_and_hold_only_when_every_interval_clears_zero()
    {
        var seeds = Enumerable.Range(0, 5).Select(s => Seed(s, coarseAccuracy: 0.60 + 0.01 * (s - 2))).ToList();
        var claims = Claims.Evaluate(seeds);
        var a = claims.Single(c => c.Id == "a");
        var accuracy = a.Tests.Single(t => t.Measure.StartsWith("accuracy", StringComparison.Ordinal));
        // Differences 0.08 … 0.12: mean 0.10, s = 0.0158, t(4) = 2.776, half-width 0.0196.
        Assert.Equal(0.10, accuracy.Effect.Mean, 12);
        Assert.Equal(0.10 - 2.776 * Math.Sqrt(0.00025 / 5), accuracy.Effect.Low, 9);
        Assert.True(a.Holds);
        // The fine actor's accuracy equals the instruction model's in every seed: zero effect, claim (c) fails.
        Assert.False(claims.Single(c => c.Id == "c").Holds);

        var markdown = PipelineReport.Render(seeds);
        Assert.Contains("| (a) Continuous Maximization beats the fixed limit L₀", markdown);
        Assert.Contains("| **holds** |", markdown);
        // Shares in points, like the stage table: +10 points [8.037, 11.96].
        Assert.Contains("| accuracy: coarse actor (CM) − coarse actor (fixed limit L₀) | 10.00 | [8.037, 11.96] | yes |", markdown);
        Assert.Contains("| coarse actor (CM) | 60.00 [58.04, 61.96] |", markdown);
        Assert.Contains("| stage | seed 0 | seed 1 | seed 2 | seed 3 | seed 4 |", markdown);
        Assert.Contains("| coarse actor (CM) | 58.00 | 59.00 | 60.00 | 61.00 | 62.00 |", markdown);
    }

    [Fact]
    public void The_reward_model_the_starting_limits_and_the_lambda_sweep_are_reported()
    {
        var markdown = PipelineReport.Render([Seed(0, 0.6), Seed(1, 0.6)]);
        Assert.Contains("Held-out pair accuracy 93.00 [93.00, 93.00] %", markdown);
        Assert.Contains("sampled answers to the held-out prompts (1024 a seed, 30.00 [30.00, 30.00] % right), ROC AUC of score against correct 0.9500 [0.9500, 0.9500] " +
            "(within a prompt, the share of its right and wrong answers ranked right: 0.8750 [0.8750, 0.8750]; against answers right with every written step right " +
            "0.9700 [0.9700, 0.9700], as 25.00 [25.00, 25.00] % of the right answers are right by luck, a wrong step undone by another, which the answer checker " +
            "counts right and a check of the working does not); on its answers to the validation prompts, where the reward model's settings are chosen, 0.8500 [0.8500, 0.8500].", markdown);
        Assert.Contains("| compact vs crossing slip (compact) | 40 | 90.00 |", markdown);
        Assert.Contains("L₀ (tokens) per seed: 21 (seed 0), 22 (seed 1)", markdown);
        Assert.Contains("| 1.5 | 40.00 [40.00, 40.00] | 2 |", markdown);
        Assert.Contains("| coarse actor (CM) | 3 | 0.3000 |", markdown);
        foreach (var file in PlotFiles) Assert.Contains($"]({file})", markdown);
    }

    [Fact]
    public void Writing_leaves_the_report_and_its_png_plots_and_nothing_else()
    {
        using var directory = new TemporaryDirectory();
        var markdown = PipelineReport.Write(directory.Path, [Seed(0, 0.6), Seed(1, 0.7)]);
        Assert.Equal(PlotFiles.Append(PipelineReport.MarkdownFileName).Order(StringComparer.Ordinal), directory.FileNames());
        Assert.Equal(markdown, File.ReadAllText(directory.File(PipelineReport.MarkdownFileName)));
        foreach (var file in PlotFiles) AssertPng(File.ReadAllBytes(directory.File(file)));
    }

    private static void AssertPng(byte[] png)
    {
        Assert.Equal(PngSignature, png.Take(8));
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal(PpoPlots.Width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(PpoPlots.Height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.True(png.Length > 10_000, $"only {png.Length} bytes");
    }

    private static StageMetrics Metrics(double accuracy, double? score, double length, double eos, double idle, double ngrams, double sentences, double? perplexity) =>
        new(new ResponseMetrics(64, accuracy, length, eos, ngrams, sentences, idle, CrossingStepsRight: 0.25), score, perplexity);

    /// <summary>Made-up numbers in the pipeline's shape; only the coarse actor's accuracy varies with the arguments.</summary>
    internal static PipelineReportInput Seed(int seed, double coarseAccuracy)
    {
        var rm = new RewardModelAccuracy(100, 0.93, [("compact vs crossing slip (compact)", 20, 0.9)]);
        return new PipelineReportInput(seed,
            [
                new(PipelineStages.Base, Metrics(0.2, null, 17, 0.9375, 0.1, 0, 0, Math.E)),
                new(PipelineStages.Instruct, Metrics(0.34, -0.43, 30, 1, 0, 0, 0, 2.9)),
                new(PipelineStages.Coarse, Metrics(coarseAccuracy, 1.23456, 41.2656, 0.8125, 0.2, 0.123456, 0.0625, Math.PI)),
                new(PipelineStages.Fine, Metrics(0.34, 0.98, 31, 0.98, 0.01, 0.0123, 0, 2.95)),
                new(PipelineStages.FixedAtStart, Metrics(0.5, 0.5, 24, 0.5, 0.05, 0.05, 0.03, 3.3)),
                new(PipelineStages.FixedAtMax, Metrics(0.55, 1.1, 40, 0.9, 0.2, 0.1, 0.05, 3.2)),
                new(PipelineStages.FineNone, Metrics(0.33, 0.9, 31, 0.98, 0.01, 0.01, 0, 2.95)),
                new(PipelineStages.FineDare, Metrics(0.32, 0.9, 31, 0.98, 0.01, 0.01, 0, 2.95)),
            ],
            [
                new(PipelineStages.Coarse, Enumerable.Range(1, 3).Select(k => new PpoIterationRecord(k, 0.1 * k, 0.01 * k, 20 + k, 20 + k, 0.5 / k, 0.9, 0.5, 0.4)).ToArray()),
                new(PipelineStages.FixedAtStart, Enumerable.Range(1, 3).Select(k => new PpoIterationRecord(k, 0.05 * k, 0.01 * k, 21, 19, 0.6)).ToArray()),
            ],
            new RewardModelReport(rm, rm, new SampleRanking(0.95, 0.3, 1024, WithinPromptAuc: 0.875, WorkedRightAuc: 0.97, LuckyShare: 0.25), new SampleRanking(0.85, 0.25, 512), 0.5), 21 + seed, [(1f, 0.3), (1.5f, 0.4)], 1.5f);
    }
}
