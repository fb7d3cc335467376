using static Mistral.C2F.Rlhf.Evaluation.SignificantFigures;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>The report's table of every stage × metric, with the units in the headers.</summary>
public static class StageTable
{
    public static IReadOnlyList<string> Headers { get; } =
    [
        "stage", "accuracy (%)", "RM score (mean)", "length (tokens, mean)", "EOS (%)", "repeated 4-grams (%)",
        "repeated sentences (%)", "perplexity (held-out)",
    ];

    /// <summary>Says what each column means, below the table.</summary>
    public const string Legend =
        "Accuracy: final answer correct (the number after \"The answer is\", else the last integer). " +
        "EOS: responses that ended with EOS rather than at the length limit. " +
        "Repeated 4-grams: 1 − distinct-4 over lower-cased whitespace-separated words, counted within each response and pooled over responses. " +
        "Repeated sentences: sentences (split on . ! ?) equal to an earlier sentence of the same response, pooled. " +
        "\"–\": not measured.";

    public static string Render(IEnumerable<StageRow> stages) =>
        MarkdownTable.Render(Headers, stages.Select(Row));

    private static IReadOnlyList<string> Row(StageRow stage)
    {
        var (responses, score, perplexity) = stage.Metrics;
        return
        [
            stage.Name, Percent(responses.Accuracy), Format(score), Format(responses.MeanLengthTokens), Percent(responses.EosRate),
            Percent(responses.RepeatedNgramRate), Percent(responses.RepeatedSentenceRate), Format(perplexity),
        ];
    }
}
