using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>Equations read back from responses, and answers right by luck told from answers worked right.</summary>
[Trait("Backend", "cpu")]
public sealed class WrittenEquationTests
{
    [Fact]
    public void Equations_are_read_in_order_with_repeats_and_signs()
    {
        Assert.Equal(
            [new WrittenEquation(17, ChainOperator.Add, 5, 22), new WrittenEquation(22, ChainOperator.Subtract, 30, -8), new WrittenEquation(17, ChainOperator.Add, 5, 22)],
            WrittenEquation.In("We need 17+5-30. 17+5=22. 22-30=-8. Check: 17+5=22. The answer is -8."));
        Assert.Empty(WrittenEquation.In("The answer is 12."));
    }

    [Fact]
    public void A_missing_text_fails_when_asked_not_when_read()
    {
        Assert.Throws<ArgumentNullException>(() => WrittenEquation.In(null!));
        Assert.Throws<ArgumentNullException>(() => CrossingSteps.Count(null!));
    }

    [Theory]
    [InlineData("11-7=4. 4+9=13. 13+1=14. 14+2=16. The answer is 16.", true)] // worked right
    [InlineData("11-7=14. 14+9=13. 13+1=14. 14+2=16. The answer is 16.", false)] // right by luck: a forgotten borrow undone by a forgotten carry
    [InlineData("17+5=22. Check: 17+5=21. The answer is 22.", false)] // a wrong check is a wrong step
    [InlineData("The answer is 16.", true)] // a bare answer writes no step to get wrong
    [InlineData("123+4=127", true)]
    [InlineData("123+4=128", false)]
    public void Every_written_step_must_be_right(string text, bool allRight)
    {
        Assert.Equal(allRight, WrittenEquation.AllRight(text));
    }

    [Fact]
    public void A_step_is_right_when_its_result_is_the_operation_applied()
    {
        Assert.True(new WrittenEquation(2, ChainOperator.Subtract, 6, -4).IsRight);
        Assert.False(new WrittenEquation(17, ChainOperator.Add, 5, 12).IsRight);
    }
}
