using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Rlhf.Tests.Hostile;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary><c>mpirun -np 2 c2f bench --mode allreduce</c> times the all-reduce and states both bandwidths; one process has no bus to measure.</summary>
[Trait("Backend", "cpu")]
public sealed class AllReduceTimingTests
{
    [Fact]
    public void Two_ranks_report_the_all_reduce_time_and_bandwidths()
    {
        var run = ConsoleProcess.Run(TimeSpan.FromSeconds(60), 2L << 30, MpiLauncher.Ranks(2), null,
            "bench", "--mode", "allreduce", "--megabytes", "1", "--steps", "3", "--warmup", "1");
        Assert.True(run.ExitCode == 0 && run.KilledFor is null, run.ToString());
        var flat = run.Output.Replace("\n", " ");
        Assert.Contains("all-reduce of 1 MiB over 2 rank(s)", flat);
        Assert.Contains("bus bandwidth", flat);
    }

    [Fact]
    public void The_bus_bandwidth_is_the_share_of_the_buffer_each_rank_sends_in_a_ring()
    {
        var timing = new AllReduceTiming(Ranks: 4, Bytes: 1 << 20, Median: TimeSpan.FromMilliseconds(1));
        Assert.Equal((1 << 20) / 1e-3, timing.AlgorithmBytesPerSecond, 1e-6);
        Assert.Equal(timing.AlgorithmBytesPerSecond * 1.5, timing.BusBytesPerSecond, 1e-6);
        var alone = AllReduceTiming.Measure(SingleProcess.Instance, 1 << 10, warmup: 0, steps: 2);
        Assert.Equal(0, alone.BusBytesPerSecond);
        Assert.Equal(1 << 10, alone.Bytes);
    }
}
