using System.Globalization;
using static Mistral.C2F.Rlhf.Evaluation.SignificantFigures;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>The report's table of PPO iterations: one row per (run, iteration) given.</summary>
public static class PpoIterationTable
{
    public static IReadOnlyList<string> Headers { get; } =
    [
        "run", "iteration", "RM score (mean)", "KL (nats)", "length limit (tokens)", "response length (tokens, mean)", "truncated (%)",
        "RM AUC (rollouts)", "rollout accuracy (%)", "validation accuracy (%)",
    ];

    public static string Render(IReadOnlyList<(string Run, PpoIterationRecord Iteration)> rows) =>
        MarkdownTable.Render(Headers, rows.Select(row => (IReadOnlyList<string>)
        [
            row.Run, row.Iteration.Iteration.ToString(CultureInfo.InvariantCulture), Format(row.Iteration.ScoreMean), Format(row.Iteration.Kl),
            row.Iteration.LengthLimit.ToString(CultureInfo.InvariantCulture), Format(row.Iteration.MeanResponseLength), Percent(row.Iteration.TruncationRate),
            Format(row.Iteration.RewardModelAuc), Percent(row.Iteration.Accuracy), Percent(row.Iteration.EvalAccuracy),
        ]));
}
