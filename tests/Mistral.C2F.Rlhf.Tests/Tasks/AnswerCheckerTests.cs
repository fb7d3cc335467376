using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Tasks;

/// <summary>The final answer of free-form responses: after "The answer is", else the last integer; junk has none.</summary>
[Trait("Backend", "cpu")]
public sealed class AnswerCheckerTests
{
    [Theory]
    [InlineData("17", 17)]
    [InlineData(" 17", 17)]
    [InlineData("7+5=12. 12-3=9. 9+8=17. The answer is 17.", 17)]
    [InlineData("The answer is 17. 17+1=18.", 17)] // the stated answer wins over a later number
    [InlineData("the answer is 4. Wait, THE ANSWER IS 5", 5)] // the last statement, any case
    [InlineData("The answer is:17", 17)]
    [InlineData("The answer is\n 17", 17)]
    [InlineData("7+5=12. 12-3=9", 9)] // cut at the length limit: the last integer
    [InlineData("12-3", 3)] // a minus between numbers is an operator
    [InlineData("12 - 3", 3)]
    [InlineData("It is -3.", -3)]
    [InlineData("The answer is -3.", -3)]
    [InlineData("The answer is seventeen, not 16", 16)] // no number after the phrase: the last integer
    [InlineData("abc17def", 17)]
    [InlineData("007", 7)]
    public void The_final_answer_is_read(string response, int expected)
    {
        Assert.Equal(expected, AnswerChecker.ExtractFinalAnswer(response));
        Assert.True(AnswerChecker.IsCorrect(response, expected));
        Assert.False(AnswerChecker.IsCorrect(response, expected + 1));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("The answer is")]
    [InlineData("seventeen")]
    [InlineData("=+-.!?")]
    [InlineData("\u0000\uFFFD\u2028 ☃")]
    [InlineData("The answer is 99999999999999999999")] // does not fit an int: no answer, not a wrapped one
    public void Junk_has_no_answer_and_is_never_correct(string? response)
    {
        Assert.Null(AnswerChecker.ExtractFinalAnswer(response));
        Assert.False(AnswerChecker.IsCorrect(response, 0));
        Assert.False(AnswerChecker.IsCorrect(response, 17));
    }

    [Fact]
    public void Non_ascii_digits_are_not_numbers()
    {
        Assert.Null(AnswerChecker.ExtractFinalAnswer("١٧"));
        Assert.Equal(3, AnswerChecker.ExtractFinalAnswer("3 ١٧"));
    }
}
