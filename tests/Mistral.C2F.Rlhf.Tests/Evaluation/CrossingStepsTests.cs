using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>Carries and borrows counted on texts whose steps were sorted by hand.</summary>
[Trait("Backend", "cpu")]
public sealed class CrossingStepsTests
{
    [Theory]
    [InlineData("17+5=22. 22-5=17. The answer is 17.", 2, 2)] // both cross, both right
    [InlineData("17+5=12. 12-5=17. The answer is 17.", 0, 2)] // the carry forgotten, the borrow forgotten
    [InlineData("17+2=19. 19-3=16. The answer is 16.", 0, 0)] // no crossing at all
    [InlineData("17+2=29. The answer is 29.", 0, 0)] // a carry where none is due: wrong, but not a crossing step
    [InlineData("2-6=-4. -4+5=1.", 2, 2)] // 2-6 leaves 0..9, -4+5 comes back into it
    [InlineData("9+8=17. Check: 9+8=17. 17+8=15. The answer is 15.", 1, 2)] // a checked step counts once
    [InlineData("12", 0, 0)]
    [InlineData("", 0, 0)]
    public void Counts_right_steps_among_the_distinct_steps_that_cross_a_tens_boundary(string text, int right, int total)
    {
        Assert.Equal(new CrossingSteps.Tally(right, total), CrossingSteps.Count(text));
    }

    [Fact]
    public void Tallies_pool_and_a_tally_without_crossings_has_no_rate()
    {
        var pooled = CrossingSteps.Count("17+5=22.") + CrossingSteps.Count("17+5=12. 13+9=22.");

        Assert.Equal(new CrossingSteps.Tally(2, 3), pooled);
        Assert.Equal(2.0 / 3, pooled.Rate!.Value, 12);
        Assert.Null(CrossingSteps.Count("1+1=2.").Rate);
    }
}
