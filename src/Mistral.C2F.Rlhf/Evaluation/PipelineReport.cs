using System.Globalization;
using System.Text;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Pipeline;
using static Mistral.C2F.Rlhf.Evaluation.SignificantFigures;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The pipeline's report over one or more seeds: the claims with their measured effects, every stage's metrics as means
/// with 95 % intervals, every seed's accuracies (failures included), the reward model's measurements, L₀ and the λ sweep,
/// and the PPO runs with plots of their seed means beside it as PNGs.
/// </summary>
public static class PipelineReport
{
    public const string MarkdownFileName = "report.md";
    public const string Title = "Coarse-to-Fine pipeline report";

    public static string Render(IReadOnlyList<PipelineReportInput> seeds)
    {
        if (seeds.Count == 0) throw new ArgumentException("no seeds to report", nameof(seeds));
        var markdown = new StringBuilder($"# {Title}\n\n")
            .Append($"Seeds: {string.Join(", ", seeds.Select(s => s.Seed))}. ")
            .Append(seeds.Count > 1 ? "Figures are means over the seeds with their 95 % intervals (Student's t) in brackets.\n"
                : "One seed: no interval, and no claim can hold (each needs an interval that excludes zero).\n");
        Claims(markdown, seeds);
        markdown.Append("\n## Stages (held-out prompts)\n\n").Append(StageTable.Render(seeds)).Append('\n').Append(StageTable.Legend).Append('\n');
        EverySeed(markdown, seeds);
        RewardModel(markdown, seeds);
        StartAndLambda(markdown, seeds);
        Ppo(markdown, seeds);
        return markdown.ToString();
    }

    private static void Claims(StringBuilder markdown, IReadOnlyList<PipelineReportInput> seeds)
    {
        var claims = Evaluation.Claims.Evaluate(seeds);
        markdown.Append("\n## Claims\n\n");
        var rows = claims.SelectMany(claim => claim.Tests.Select((test, i) => (IReadOnlyList<string>)
        [
            i == 0 ? $"({claim.Id}) {claim.Statement}" : "", test.Measure, Format(test.Effect.Mean * Scale(test)), Bounds(test.Effect, Scale(test)),
            test.Passes ? "yes" : "no",
            i == 0 ? (claim.Holds ? "**holds**" : "**does not hold**") : "",
        ]));
        markdown.Append(MarkdownTable.Render(["claim", "measure (per seed, paired)", "effect (mean)", "95 % interval", "passes", "claim"], rows))
            .Append("\nEffects on accuracy and idle sentences are in points (5 = five percentage points), lengths in tokens, scores in reward-model units. ")
            .Append("(e): the λ sweep below.\n");
    }

    /// <summary>Shares are shown in points, like the stage table's percentages.</summary>
    private static double Scale(ClaimTest test) => test.IsShare ? 100 : 1;

    private static void EverySeed(StringBuilder markdown, IReadOnlyList<PipelineReportInput> seeds)
    {
        markdown.Append("\n## Every seed: accuracy (%) on the held-out prompts\n\n");
        var rows = seeds[0].Stages.Select(stage => (IReadOnlyList<string>)[stage.Name, .. seeds.Select(s => Percent(s.Stage(stage.Name).Responses.Accuracy))]);
        markdown.Append(MarkdownTable.Render(["stage", .. seeds.Select(s => $"seed {s.Seed}")], rows));
    }

    private static void RewardModel(StringBuilder markdown, IReadOnlyList<PipelineReportInput> seeds)
    {
        markdown.Append("\n## Reward model\n\n")
            .Append($"Held-out pair accuracy {Cell(seeds.Select(s => s.RewardModel.HeldOut.Accuracy), percent: true)} % ")
            .Append($"({seeds[0].RewardModel.HeldOut.Pairs} pairs never trained on); validation pairs {Cell(seeds.Select(s => s.RewardModel.Validation.Accuracy), percent: true)} %. ")
            .Append($"On the base model's sampled answers to the held-out prompts ({seeds[0].RewardModel.HeldOutSamples.Answers} a seed, ")
            .Append($"{Cell(seeds.Select(s => s.RewardModel.HeldOutSamples.Accuracy), percent: true)} % right), ROC AUC of score against correct ")
            .Append($"{Cell(seeds.Select(s => s.RewardModel.HeldOutSamples.Auc ?? double.NaN), percent: false)} (within a prompt, the share of its right and ")
            .Append($"wrong answers ranked right: {Cell(seeds.Select(s => s.RewardModel.HeldOutSamples.WithinPromptAuc ?? double.NaN), percent: false)}; ")
            .Append($"against answers right with every written step right {Cell(seeds.Select(s => s.RewardModel.HeldOutSamples.WorkedRightAuc ?? double.NaN), percent: false)}, ")
            .Append($"as {Cell(seeds.Select(s => s.RewardModel.HeldOutSamples.LuckyShare ?? double.NaN), percent: true)} % of the right answers are right by luck, ")
            .Append("a wrong step undone by another, which the answer checker counts right and a check of the working does not); ")
            .Append("on its answers to the validation prompts, ")
            .Append($"where the reward model's settings are chosen, {Cell(seeds.Select(s => s.RewardModel.ValidationSamples.Auc ?? double.NaN), percent: false)}. ")
            .Append($"Its known blind spot, pairs whose rejected answer has a result off by 1 to 3 (never trained on: the base model does not make such slips, ")
            .Append($"and the tiny model did not learn to see them): {Cell(seeds.Select(s => s.RewardModel.UnitsSlipProbe), percent: true)} %.\n\n");
        var combinations = seeds.SelectMany(s => s.RewardModel.HeldOut.ByCombination.Select(c => c.Combination)).Distinct().Order(StringComparer.Ordinal);
        var rows = combinations.Select(name => (IReadOnlyList<string>)
        [
            name, seeds.Sum(s => s.RewardModel.HeldOut.ByCombination.Where(c => c.Combination == name).Sum(c => c.Pairs)).ToString(CultureInfo.InvariantCulture),
            Percent(seeds.SelectMany(s => s.RewardModel.HeldOut.ByCombination.Where(c => c.Combination == name)).Average(c => c.Accuracy)),
        ]);
        markdown.Append(MarkdownTable.Render(["chosen vs rejected (style)", "held-out pairs (all seeds)", "accuracy (%, mean over seeds)"], rows));
    }

    private static void StartAndLambda(StringBuilder markdown, IReadOnlyList<PipelineReportInput> seeds)
    {
        markdown.Append("\n## Starting limit and λ\n\n")
            .Append($"L₀ (tokens) per seed: {string.Join(", ", seeds.Select(s => $"{s.StartingLengthLimit} (seed {s.Seed})"))}. ")
            .Append("(e) The λ sweep of the Fine Actor, on the validation prompts (never the held-out ones); each seed's Fine Actor takes its best λ.\n\n");
        var rows = seeds[0].LambdaSweep.Select(point => (IReadOnlyList<string>)
        [
            point.Lambda.ToString("0.##", CultureInfo.InvariantCulture),
            Cell(seeds.Select(s => s.LambdaSweep.First(p => p.Lambda == point.Lambda).ValidationAccuracy), percent: true),
            seeds.Count(s => s.ChosenLambda == point.Lambda).ToString(CultureInfo.InvariantCulture),
        ]);
        markdown.Append(MarkdownTable.Render(["λ", "validation accuracy (%)", "seeds choosing it"], rows));
    }

    private static void Ppo(StringBuilder markdown, IReadOnlyList<PipelineReportInput> seeds)
    {
        var runs = SeedMeans(seeds);
        if (runs.Count == 0) return;
        markdown.Append("\n## PPO\n\nThe last iteration of each run, mean over seeds (RM score raw, whatever the reward):\n\n")
            .Append(PpoIterationTable.Render(runs.Select(run => (run.Name, run.Iterations[^1])).ToList()));
        markdown.Append("\n").Append(string.Concat(PpoPlots.Files.Select(plot => $"![{plot.Caption}]({plot.FileName})\n")));
    }

    /// <summary>Each PPO run's iterations averaged over the seeds, iteration by iteration.</summary>
    public static IReadOnlyList<PpoRunLog> SeedMeans(IReadOnlyList<PipelineReportInput> seeds) =>
        seeds[0].PpoRuns.Select((run, r) =>
        {
            int iterations = seeds.Min(s => s.PpoRuns[r].Iterations.Count);
            var records = Enumerable.Range(0, iterations).Select(i =>
            {
                var all = seeds.Select(s => s.PpoRuns[r].Iterations[i]).ToList();
                double? Mean(Func<PpoIterationRecord, double?> value) => all.All(x => value(x) is double v && double.IsFinite(v)) ? all.Average(x => value(x)!.Value) : null;
                return new PpoIterationRecord(all[0].Iteration, all.Average(x => x.ScoreMean), all.Average(x => x.Kl), (int)Math.Round(all.Average(x => x.LengthLimit)),
                    all.Average(x => x.MeanResponseLength), all.Average(x => x.TruncationRate), Mean(x => x.RewardModelAuc), Mean(x => x.Accuracy), Mean(x => x.EvalAccuracy));
            }).ToList();
            return new PpoRunLog(run.Name, records);
        }).ToList();

    /// <summary>"12.34 [10.01, 14.67]" over the seeds, or the value alone for one seed.</summary>
    public static string Cell(IEnumerable<double> values, bool percent)
    {
        var interval = Interval.Of(values.ToList());
        double scale = percent ? 100 : 1;
        return interval.Count == 1 ? Format(interval.Mean * scale) : $"{Format(interval.Mean * scale)} {Bounds(interval, scale)}";
    }

    private static string Bounds(Interval interval, double scale = 1) =>
        interval.Count == 1 ? "–" : $"[{Format(interval.Low * scale)}, {Format(interval.High * scale)}]";

    /// <summary>
    /// Writes report.md and the plots into <paramref name="directory"/> and returns the Markdown. Every file is written
    /// under a temporary name and all are finished before any is renamed, report.md last: a crash leaves the previous
    /// report, and a report.md on disk always has its plots beside it.
    /// </summary>
    public static string Write(string directory, IReadOnlyList<PipelineReportInput> seeds, string? preface = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var markdown = (preface ?? "") + Render(seeds);
        var runs = SeedMeans(seeds);
        var plots = runs.Count == 0 ? [] : PpoPlots.Render(runs);
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
