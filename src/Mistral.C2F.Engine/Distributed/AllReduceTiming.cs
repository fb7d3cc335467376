using System.Diagnostics;

namespace Mistral.C2F.Engine.Distributed;

/// <summary>
/// The time of one all-reduce (sum) of a float32 buffer over the job's ranks, and the bandwidths it implies as
/// nccl-tests states them: the algorithm bandwidth (bytes / time) and the bus bandwidth (2(N−1)/N of it, what each
/// rank's link carries in a ring, comparable across rank counts).
/// </summary>
public sealed record AllReduceTiming(int Ranks, long Bytes, TimeSpan Median)
{
    public double AlgorithmBytesPerSecond => Bytes / Median.TotalSeconds;
    public double BusBytesPerSecond => AlgorithmBytesPerSecond * 2 * (Ranks - 1) / Ranks;

    /// <summary>Times <paramref name="steps"/> all-reduces after <paramref name="warmup"/>, each started behind a barrier; the median is reported.</summary>
    public static AllReduceTiming Measure(ICommunicator communicator, long bytes, int warmup, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, sizeof(float));
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var buffer = new float[bytes / sizeof(float)];
        buffer.AsSpan().Fill(1f);
        var times = new List<TimeSpan>();
        for (int i = 0; i < warmup + steps; i++)
        {
            communicator.Barrier();
            var clock = Stopwatch.StartNew();
            communicator.AllReduceSum(buffer);
            if (i >= warmup) times.Add(clock.Elapsed);
        }
        return new AllReduceTiming(communicator.Size, buffer.LongLength * sizeof(float), times.Order().ElementAt(times.Count / 2));
    }
}
