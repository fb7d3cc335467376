using ScottPlot;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The report's PNG plots of PPO: one quantity per plot against the iteration, one line per run, so ablations (CM vs a
/// fixed limit) share axes; points a run did not measure are left out. Rendered with ScottPlot on SkiaSharp's CPU raster, which needs no display.
/// </summary>
public static class PpoPlots
{
    public const int Width = 800;
    public const int Height = 500;

    private static readonly (string FileName, string Caption, string YLabel, Func<PpoIterationRecord, double?> Value, bool Steps)[] Quantities =
    [
        ("ppo-reward.png", "Reward-model score per PPO iteration", "RM score (mean)", record => record.ScoreMean, false),
        ("ppo-rm-auc.png", "Reward model's ROC AUC against the answer checker on the rollouts", "RM AUC", record => record.RewardModelAuc, false),
        ("ppo-validation-accuracy.png", "Greedy accuracy on the validation prompts after each PPO iteration", "validation accuracy", record => record.EvalAccuracy, false),
        ("ppo-kl.png", "KL to the reference model per PPO iteration", "KL (nats)", record => record.Kl, false),
        // The limit holds for a whole iteration and changes between iterations: drawn as steps.
        ("ppo-length-limit.png", "Rollout length limit per PPO iteration", "length limit (tokens)", record => record.LengthLimit, true),
        ("ppo-response-length.png", "Mean response length per PPO iteration", "response length (tokens, mean)", record => record.MeanResponseLength, false),
    ];

    /// <summary>The file name and caption of every plot, in the order <see cref="Render"/> returns them.</summary>
    public static IEnumerable<(string FileName, string Caption)> Files => Quantities.Select(quantity => (quantity.FileName, quantity.Caption));

    public static IReadOnlyList<PpoPlot> Render(IReadOnlyList<PpoRunLog> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return Quantities.Select(quantity =>
        {
            using var plot = new Plot();
            foreach (var run in runs)
            {
                var points = run.Iterations.Where(record => quantity.Value(record) is double v && double.IsFinite(v)).ToList();
                if (points.Count == 0) continue;
                var line = plot.Add.Scatter(points.Select(record => (double)record.Iteration).ToArray(), points.Select(record => quantity.Value(record)!.Value).ToArray());
                line.LegendText = run.Name;
                if (quantity.Steps) line.ConnectStyle = ConnectStyle.StepHorizontal;
            }
            plot.Title(quantity.Caption);
            plot.XLabel("PPO iteration");
            plot.YLabel(quantity.YLabel);
            if (runs.Count > 1) plot.ShowLegend(Alignment.UpperLeft);
            return new PpoPlot(quantity.FileName, quantity.Caption, plot.GetImageBytes(Width, Height, ImageFormat.Png));
        }).ToArray();
    }
}
