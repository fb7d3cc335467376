using System.Globalization;
using static Mistral.C2F.Rlhf.Evaluation.SignificantFigures;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>The report's table of one PPO run, one row per iteration.</summary>
public static class PpoIterationTable
{
    public static IReadOnlyList<string> Headers { get; } =
    [
        "iteration", "RM score (mean)", "KL (nats)", "length limit (tokens)", "response length (tokens, mean)", "truncated (%)",
    ];

    public static string Render(PpoRunLog run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return MarkdownTable.Render(Headers, run.Iterations.Select(iteration => (IReadOnlyList<string>)
        [
            iteration.Iteration.ToString(CultureInfo.InvariantCulture), Format(iteration.ScoreMean),
            Format(iteration.Kl), iteration.LengthLimit.ToString(CultureInfo.InvariantCulture),
            Format(iteration.MeanResponseLength), Percent(iteration.TruncationRate),
        ]), firstColumnIsName: false);
    }
}
