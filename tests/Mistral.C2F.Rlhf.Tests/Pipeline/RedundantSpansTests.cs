using Mistral.C2F.Rlhf.Pipeline;

namespace Mistral.C2F.Rlhf.Tests.Pipeline;

[Trait("Backend", "cpu")]
public sealed class RedundantSpansTests
{
    [Theory]
    [InlineData("7+5=12. 12-3=9. 12-3=9. The answer is 9.", "7+5=12. 12-3=9. The answer is 9.")]
    [InlineData("7+5=12. The answer is 12. The answer is 12. 12+1=13.", "7+5=12. The answer is 12.")]
    [InlineData("12", "12")]
    [InlineData("  ok.  OK.   fine ", "ok. fine")]
    [InlineData("", "")]
    public void Repeated_sentences_and_everything_after_the_final_answer_go(string response, string expected) =>
        Assert.Equal(expected, RedundantSpans.Remove(response));
}
