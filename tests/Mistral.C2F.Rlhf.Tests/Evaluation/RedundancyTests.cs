using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>Repeated 4-grams (1 − distinct-4 over words) and repeated sentences, on examples counted by hand.</summary>
[Trait("Backend", "cpu")]
public sealed class RedundancyTests
{
    [Theory]
    // a b a b | b a b a | a b a b (repeat): 3 four-grams, 2 distinct, so distinct-4 = 2/3 and 1 repeated.
    [InlineData("a b a b a b", 1, 3)]
    [InlineData("A b a\tB\n a  b", 1, 3)] // case and whitespace do not matter
    // the answer is 17. | answer is 17. the | is 17. the answer | 17. the answer is | the answer is 17. (repeat)
    [InlineData("The answer is 17. The answer is 17.", 1, 5)]
    // The last four-gram ends in "5", not "5.": 4 of 9 repeat.
    [InlineData("The answer is 5. The answer is 5. The answer is 5", 4, 9)]
    [InlineData("7+5=12. 12-3=9. 9+8=17. The answer is 17.", 0, 4)]
    [InlineData("x x x x", 0, 1)]
    [InlineData("x x x x x x", 2, 3)]
    [InlineData("one two three", 0, 0)] // too short for a four-gram
    [InlineData("", 0, 0)]
    public void Repeated_four_grams_are_counted_within_the_response(string text, int repeated, int total)
    {
        var count = RepeatedNgrams.Count(text);

        Assert.Equal(new RepeatCount(repeated, total), count);
        Assert.Equal(total == 0 ? 0 : (double)repeated / total, count.Rate, 12);
    }

    [Fact]
    public void Distinct_n_of_other_orders_follows_the_same_rule()
    {
        Assert.Equal(new RepeatCount(4, 6), RepeatedNgrams.Count("a b a b a b", n: 1));
        Assert.Equal(new RepeatCount(3, 5), RepeatedNgrams.Count("a b a b a b", n: 2));
    }

    [Theory]
    [InlineData("7+5=12. 12-3=9. 7+5=12! The answer is 9. the  answer is 9?", 2, 5)]
    [InlineData("The answer is 5. The answer is 5. The answer is 5", 2, 3)] // an unfinished last sentence counts
    [InlineData("7+5=12. 12-3=9. 9+8=17. The answer is 17.", 0, 4)]
    [InlineData("17", 0, 1)]
    [InlineData("Yes... yes!! YES?", 2, 3)] // runs of sentence ends leave no empty sentences
    [InlineData(" . ! ? ", 0, 0)]
    [InlineData("", 0, 0)]
    public void Repeated_sentences_are_counted_within_the_response(string text, int repeated, int total)
    {
        Assert.Equal(new RepeatCount(repeated, total), RepeatedSentences.Count(text));
    }

    [Fact]
    public void Counts_of_several_responses_pool()
    {
        var pooled = RepeatedNgrams.Count("a b a b a b") + RepeatedNgrams.Count("one two three") + RepeatedNgrams.Count("x x x x x x");

        Assert.Equal(new RepeatCount(3, 6), pooled);
        Assert.Equal(0.5, pooled.Rate);
    }

    [Theory]
    [InlineData("7+5=12. 12-3=9. 9+8=17. The answer is 17.", 0, 4)]
    [InlineData("17", 0, 1)] // a bare answer is the answer
    [InlineData("-4", 0, 1)]
    [InlineData("Let me think. 7+5=12. The answer is 12.", 1, 3)]
    [InlineData("We need 7+5-3. 7+5=12. 12-3=9. The answer is 9.", 1, 4)]
    [InlineData("7+5=12. 7+5=12. 12-3=9. The answer is 9.", 1, 4)]
    [InlineData("7+5=12. 12-3=9. Check: 12-3=9. The answer is 9.", 1, 4)]
    [InlineData("7+5=12. 12-3=9. The answer is 9. So the answer is 9.", 1, 4)]
    [InlineData("Let me think. Let me think.", 2, 2)]
    [InlineData("7+5=12. 12-3=9", 0, 2)] // cut off: every sentence was a step
    [InlineData("2-6=-4. -4+3=-1. The answer is -1.", 0, 3)]
    [InlineData("", 0, 0)]
    public void Idle_sentences_are_those_without_a_new_equation_or_the_first_answer(string text, int idle, int total)
    {
        Assert.Equal(new RepeatCount(idle, total), IdleSentences.Count(text));
    }

    /// <summary>
    /// Every kind of redundancy the task writes, planted into correct solutions of generated problems, is seen by the
    /// idle-sentence rate; a restated answer by repeated 4-grams and a repeated step by repeated sentences too (the general
    /// measures see only repeats worded the same). The same solutions written compact measure zero on all three.
    /// </summary>
    [Theory]
    [InlineData(RedundancyKind.RestatedQuestion, 0, 0)]
    [InlineData(RedundancyKind.RepeatedStep, 0, 1)]
    [InlineData(RedundancyKind.CheckedStep, 0, 0)]
    [InlineData(RedundancyKind.Filler, 0, 0)]
    [InlineData(RedundancyKind.RestatedAnswer, 1, 0)]
    public void Planted_redundancy_is_detected_and_compact_solutions_measure_zero(RedundancyKind kind, int repeatedNgrams, int repeatedSentences)
    {
        var random = new SplitMix64(7);
        foreach (var problem in ChainArithmeticTask.Distinct(50, seed: 3))
        {
            var planted = RedundancyPlan.Of([kind], problem.Steps.Count, random).Write(problem, problem.Solution);
            Assert.Equal(1, IdleSentences.Count(planted).Repeated);
            Assert.True(RepeatedNgrams.Count(planted).Repeated >= repeatedNgrams, planted);
            Assert.Equal(repeatedSentences, RepeatedSentences.Count(planted).Repeated);

            var compact = problem.Solution.StepByStep;
            Assert.Equal(0, IdleSentences.Count(compact).Repeated);
            Assert.Equal(0, RepeatedNgrams.Count(compact).Repeated);
            Assert.Equal(0, RepeatedSentences.Count(compact).Repeated);
        }
    }
}
