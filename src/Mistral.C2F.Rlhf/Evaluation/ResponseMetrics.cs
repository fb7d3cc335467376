using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// What the responses of one stage to the evaluation prompts show by themselves, without a model: accuracy, length,
/// how often generation ended by itself, redundancy, and how often carries and borrows are right.
/// </summary>
/// <param name="Count">How many responses.</param>
/// <param name="Accuracy">Share whose final answer (<see cref="AnswerChecker"/>) is the expected one, in 0..1.</param>
/// <param name="MeanLengthTokens">Mean generated tokens per response, EOS not counted.</param>
/// <param name="EosRate">Share that ended with EOS instead of at the length limit, in 0..1.</param>
/// <param name="RepeatedNgramRate">1 − distinct-4 over words (<see cref="RepeatedNgrams"/>), pooled over the responses.</param>
/// <param name="RepeatedSentenceRate">Repeated sentences (<see cref="RepeatedSentences"/>) over all sentences, pooled.</param>
/// <param name="IdleSentenceRate">Sentences that add no step and no first answer (<see cref="IdleSentences"/>), pooled.</param>
/// <param name="CrossingStepsRight">Written steps across a tens boundary that are right (<see cref="CrossingSteps"/>), pooled; null when none was written.</param>
public sealed record ResponseMetrics(
    int Count,
    double Accuracy,
    double MeanLengthTokens,
    double EosRate,
    double RepeatedNgramRate,
    double RepeatedSentenceRate,
    double IdleSentenceRate,
    double? CrossingStepsRight)
{
    /// <summary>
    /// The metrics of <paramref name="responses"/>, where response i answers a problem whose answer is
    /// <paramref name="expectedAnswers"/>[i]. Redundancy is counted within each response (answers to similar prompts
    /// share words, which is no redundancy) and pooled: longer responses weigh more, as their text does.
    /// </summary>
    public static ResponseMetrics Compute(IReadOnlyList<GeneratedResponse> responses, IReadOnlyList<int> expectedAnswers)
    {
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(expectedAnswers);
        if (responses.Count == 0) throw new ArgumentException("There are no responses to measure.", nameof(responses));
        if (expectedAnswers.Count != responses.Count)
            throw new ArgumentException($"{responses.Count} responses but {expectedAnswers.Count} expected answers.", nameof(expectedAnswers));

        var ngrams = default(RepeatCount);
        var sentences = default(RepeatCount);
        var idle = default(RepeatCount);
        var crossings = default(CrossingSteps.Tally);
        int correct = 0, endedWithEos = 0;
        long tokens = 0;
        for (int i = 0; i < responses.Count; i++)
        {
            var response = responses[i];
            if (AnswerChecker.IsCorrect(response.Text, expectedAnswers[i])) correct++;
            if (response.EndedWithEos) endedWithEos++;
            tokens += response.TokenCount;
            ngrams += RepeatedNgrams.Count(response.Text);
            sentences += RepeatedSentences.Count(response.Text);
            idle += IdleSentences.Count(response.Text);
            crossings += CrossingSteps.Count(response.Text);
        }
        double count = responses.Count;
        return new ResponseMetrics(responses.Count, correct / count, tokens / count, endedWithEos / count, ngrams.Rate, sentences.Rate, idle.Rate,
            crossings.Rate);
    }
}
