namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>Splits independent work items over a bounded number of threads.</summary>
internal sealed class CpuParallel(int threads)
{
    public int Threads { get; } = threads >= 1 ? threads : throw new ArgumentOutOfRangeException(nameof(threads), "need at least one thread");

    /// <summary>Runs body(start, end) over contiguous ranges covering 0..count, a few ranges per thread.</summary>
    public void ForRanges(long count, Action<long, long> body, long minimumItemsPerRange = 1)
    {
        if (count <= 0) return;
        long ranges = Math.Min(count / Math.Max(1, minimumItemsPerRange), Threads * 4L);
        if (Threads == 1 || ranges <= 1)
        {
            body(0, count);
            return;
        }
        long size = (count + ranges - 1) / ranges;
        Parallel.For(0, (count + size - 1) / size, new ParallelOptions { MaxDegreeOfParallelism = Threads },
            r => body(r * size, Math.Min(count, (r + 1) * size)));
    }

    /// <summary>Runs body(i) for each item, scheduled dynamically (for items of uneven cost).</summary>
    public void ForEach(int count, Action<int> body)
    {
        if (Threads == 1 || count <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Threads }, body);
    }
}
