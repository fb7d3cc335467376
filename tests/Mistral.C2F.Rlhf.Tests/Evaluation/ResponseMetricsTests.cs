using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>The text and token metrics of a set of responses, on a set counted by hand.</summary>
[Trait("Backend", "cpu")]
public sealed class ResponseMetricsTests
{
    [Fact]
    public void Metrics_of_four_responses_match_the_hand_count()
    {
        GeneratedResponse[] responses =
        [
            new("17", TokenCount: 3, EndedWithEos: true), // correct; no four-gram; 1 sentence
            new("7+5=12. 12-3=9. 9+8=17. The answer is 17.", TokenCount: 30, EndedWithEos: true), // correct; 4 four-grams; 4 sentences
            new("The answer is 5. The answer is 5. The answer is 5", TokenCount: 40, EndedWithEos: false), // wrong; 4 of 9; 2 of 3
            new("", TokenCount: 0, EndedWithEos: false), // no answer
        ];

        var metrics = ResponseMetrics.Compute(responses, [17, 17, 6, 1]);

        Assert.Equal(4, metrics.Count);
        Assert.Equal(0.5, metrics.Accuracy);
        Assert.Equal(18.25, metrics.MeanLengthTokens);
        Assert.Equal(0.5, metrics.EosRate);
        Assert.Equal(4.0 / 13, metrics.RepeatedNgramRate, 12); // pooled: (0 + 0 + 4 + 0) / (0 + 4 + 9 + 0)
        Assert.Equal(2.0 / 8, metrics.RepeatedSentenceRate, 12); // pooled: (0 + 0 + 2) / (1 + 4 + 3)
        Assert.Equal(1.0, metrics.CrossingStepsRight); // 7+5=12 and 9+8=17 cross and are right; 12-3=9 does not cross
    }

    [Fact]
    public void Concise_answers_that_end_by_themselves_measure_no_redundancy()
    {
        var metrics = ResponseMetrics.Compute([new("12", 3, true), new("9", 2, true)], [12, 8]);

        Assert.Equal(new ResponseMetrics(2, 0.5, 2.5, 1, 0, 0, 0, CrossingStepsRight: null), metrics);
    }

    [Fact]
    public void Mismatched_or_empty_inputs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ResponseMetrics.Compute([], []));
        Assert.Throws<ArgumentException>(() => ResponseMetrics.Compute([new("1", 1, true)], [1, 2]));
    }
}
