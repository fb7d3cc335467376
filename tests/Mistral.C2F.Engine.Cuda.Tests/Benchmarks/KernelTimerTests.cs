using Mistral.C2F.Engine.Cuda.Benchmarks;

namespace Mistral.C2F.Engine.Cuda.Tests.Benchmarks;

/// <summary>The timer's order of work: warm-up launches, then per sample a flush of the L2 cache and the timed launches.</summary>
public sealed class KernelTimerTests
{
    [Fact]
    public void Every_sample_starts_after_a_finished_flush()
    {
        var calls = new List<string>();
        var plan = new KernelTimingPlan(Warmup: 2, Repeats: 3, Launches: 2, FlushBytes: 1024);
        double seconds = KernelTimer.MedianSeconds(() => calls.Add("launch"), () => calls.Add("sync"), plan, flush: () => calls.Add("flush"));
        Assert.True(seconds >= 0);
        string[] sample = ["flush", "launch", "launch", "sync"];
        Assert.Equal(["launch", "launch", "sync", .. sample, .. sample, .. sample], calls);
    }

    [Fact]
    public void Without_a_flush_samples_follow_each_other()
    {
        var calls = new List<string>();
        KernelTimer.MedianSeconds(() => calls.Add("launch"), () => calls.Add("sync"), new KernelTimingPlan(Warmup: 0, Repeats: 2, Launches: 1));
        Assert.Equal(["sync", "launch", "sync", "launch", "sync"], calls);
    }
}
