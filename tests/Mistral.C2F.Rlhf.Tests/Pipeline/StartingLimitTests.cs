using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Pipeline;

namespace Mistral.C2F.Rlhf.Tests.Pipeline;

/// <summary>L₀ is a quantile of the worked answers' lengths: bare numbers, which fit any limit, do not pull it down.</summary>
public sealed class StartingLimitTests
{
    [Fact]
    public void Bare_numbers_do_not_count_and_the_quantile_is_of_the_worked_answers()
    {
        // Seed 0 of the 2-core EPYC: 16 bare numbers of 64 answers put the 25th percentile of all lengths at 3 tokens.
        int[] bare = [2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3];
        int[] worked = [24, 25, 27, 27, 27, 27, 27, 27, 29, 30, 32, 32, 33, 33, 33, 34, 39, 39, 39, 39, 39, 40, 41, 42, 42, 42, 43, 44, 47,
            48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 52, 52, 52, 55, 56, 57, 57, 57, 62];
        int[] lengths = [.. bare, .. worked];
        bool[] showsWork = [.. bare.Select(_ => false), .. worked.Select(_ => true)];

        Assert.Equal(3, StartingLimit.Choose(lengths, lengths.Select(_ => true).ToArray(), 0.25));
        Assert.Equal(32, StartingLimit.Choose(lengths, showsWork, 0.25));
        Assert.Equal(24, StartingLimit.Choose(lengths, showsWork, 0));
        Assert.Equal(62, StartingLimit.Choose(lengths, showsWork, 1));
    }

    [Fact]
    public void Without_a_worked_answer_every_answer_counts_and_the_limit_is_at_least_one()
    {
        Assert.Equal(4, StartingLimit.Choose([9, 4, 2, 7], [false, false, false, false], 0.5));
        Assert.Equal(1, StartingLimit.Choose([0, 0, 5], [false, false, false], 0.25));
    }

    [Fact]
    public void Mismatched_or_empty_inputs_and_quantiles_outside_0_to_1_are_refused()
    {
        Assert.Throws<ArgumentException>(() => StartingLimit.Choose([], [], 0.25));
        Assert.Throws<ArgumentException>(() => StartingLimit.Choose([3, 4], [true], 0.25));
        Assert.Throws<ArgumentOutOfRangeException>(() => StartingLimit.Choose([3], [true], 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => StartingLimit.Choose([3], [true], -0.1));
    }

    [Theory]
    [InlineData("17+5=22. 22-3=19. The answer is 19.", true)]
    [InlineData("Check: 22-3=19.", true)]
    [InlineData("19", false)]
    [InlineData("The answer is 19.", false)]
    [InlineData("Let me think step by step.", false)]
    public void An_answer_shows_its_work_when_it_writes_an_equation(string response, bool shows) =>
        Assert.Equal(shows, IdleSentences.ShowsWork(response));
}
