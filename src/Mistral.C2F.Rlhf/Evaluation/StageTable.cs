using static Mistral.C2F.Rlhf.Evaluation.SignificantFigures;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>The report's table of every stage × metric over the seeds, with the units in the headers.</summary>
public static class StageTable
{
    public static IReadOnlyList<string> Headers { get; } =
    [
        "stage", "accuracy (%)", "carries right (%)", "RM score (mean)", "length (tokens, mean)", "EOS (%)", "idle sentences (%)", "repeated 4-grams (%)",
        "repeated sentences (%)", "perplexity (held-out)",
    ];

    /// <summary>Says what each column means, below the table.</summary>
    public const string Legend =
        "Accuracy: final answer correct (the number after \"The answer is\", else the last integer). " +
        "Carries right: of the distinct steps written that cross a tens boundary (17+5, 23-5), the share with the right result, pooled. " +
        "EOS: responses that ended with EOS rather than at the length limit. " +
        "Idle sentences: sentences that write no new equation and do not state the answer for the first time (restated question, filler, " +
        "a checked or repeated step, a restated answer), pooled over responses. " +
        "Repeated 4-grams: 1 − distinct-4 over lower-cased whitespace-separated words, counted within each response and pooled over responses. " +
        "Repeated sentences: sentences (split on . ! ?) equal to an earlier sentence of the same response, pooled. " +
        "\"–\": not measured.";

    /// <summary>The stages of one run (c2f eval): each metric as measured.</summary>
    public static string Render(IEnumerable<StageRow> stages) => MarkdownTable.Render(Headers, stages.Select(stage => Row(stage.Name, [stage.Metrics])));

    public static string Render(IReadOnlyList<PipelineReportInput> seeds) =>
        MarkdownTable.Render(Headers, seeds[0].Stages.Select(stage => Row(stage.Name, seeds.Select(s => s.Stage(stage.Name)).ToList())));

    private static IReadOnlyList<string> Row(string name, IReadOnlyList<StageMetrics> seeds)
    {
        string Cell(Func<StageMetrics, double?> value, bool percent) =>
            seeds.All(m => value(m) is not null) ? PipelineReport.Cell(seeds.Select(m => value(m)!.Value), percent) : Missing;
        return
        [
            name, Cell(m => m.Responses.Accuracy, true), Cell(m => m.Responses.CrossingStepsRight, true), Cell(m => m.RewardScoreMean, false), Cell(m => m.Responses.MeanLengthTokens, false),
            Cell(m => m.Responses.EosRate, true), Cell(m => m.Responses.IdleSentenceRate, true), Cell(m => m.Responses.RepeatedNgramRate, true),
            Cell(m => m.Responses.RepeatedSentenceRate, true), Cell(m => m.Perplexity, false),
        ];
    }
}
