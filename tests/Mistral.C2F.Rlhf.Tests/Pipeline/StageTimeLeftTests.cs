using Mistral.C2F.Rlhf.Pipeline;

namespace Mistral.C2F.Rlhf.Tests.Pipeline;

public sealed class StageTimeLeftTests
{
    private static TimeSpan Seconds(double value) => TimeSpan.FromSeconds(value);

    [Fact]
    public void The_rate_since_a_stages_first_report_is_carried_over_its_steps_to_go()
    {
        var timeLeft = new StageTimeLeft();
        // A stage resumed at step 100 of 1000 reports at 10 s, then at step 150 at 20 s: 5 steps a second, 850 to go.
        Assert.Null(timeLeft.Estimate(new PipelineProgress("reward-model", "", 100, 1000), Seconds(10)));
        Assert.Equal(Seconds(170), timeLeft.Estimate(new PipelineProgress("reward-model", "", 150, 1000), Seconds(20)));
        // Another stage beside it keeps its own rate.
        Assert.Null(timeLeft.Estimate(new PipelineProgress("instruction-sft", "", 1, 200), Seconds(20)));
        Assert.Equal(Seconds(99), timeLeft.Estimate(new PipelineProgress("instruction-sft", "", 101, 200), Seconds(120)));
        Assert.Equal(Seconds(240), timeLeft.Estimate(new PipelineProgress("reward-model", "", 200, 1000), Seconds(40)));
    }

    [Fact]
    public void No_estimate_without_steps_or_after_the_last_one()
    {
        var timeLeft = new StageTimeLeft();
        Assert.Null(timeLeft.Estimate(new PipelineProgress("reward model", "held-out pairs"), Seconds(5)));
        Assert.Null(timeLeft.Estimate(new PipelineProgress("coarse-actor", "", 1, 40), Seconds(5)));
        Assert.Null(timeLeft.Estimate(new PipelineProgress("coarse-actor", "", 40, 40), Seconds(95)));
        Assert.Null(timeLeft.Estimate(new PipelineProgress("coarse-actor", "", 1, 40), Seconds(96))); // no step since the first report
    }
}
