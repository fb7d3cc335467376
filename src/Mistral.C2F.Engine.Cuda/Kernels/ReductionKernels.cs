namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Σ x² in float64 (kernels/reduce.cu), deterministic: blocks reduce grid-stride shares of each tensor to float64
/// partials side by side, one block adds them all in order, and the single double is read back: one wait for any
/// number of tensors (the global gradient norm of a whole model).
/// </summary>
public sealed class ReductionKernels(IKernelDevice device) : IDisposable
{
    private const int Threads = 256;

    /// <summary>Eight blocks of 256 threads per multiprocessor fill it (1056 on an H100; the partials stay a few KiB per tensor).</summary>
    private readonly int _maxBlocks = 8 * Math.Max(1, device.Multiprocessors);

    private readonly KernelScratch _partials = new(device);

    /// <summary>Σ x² over <paramref name="count"/> float32 elements at <paramref name="x"/>; synchronises.</summary>
    public double SumOfSquares(ulong x, long count) => SumOfSquares([(x, count)]);

    /// <summary>Σ x² over every float32 range of <paramref name="ranges"/> (address, element count); synchronises once.</summary>
    public double SumOfSquares(IReadOnlyList<(ulong Address, long Count)> ranges)
    {
        var blocks = ranges.Select(r => r.Count == 0 ? 0 : (int)Math.Clamp((r.Count / 4 + Threads - 1) / Threads, 1, _maxBlocks)).ToArray();
        int partialCount = blocks.Sum();
        if (partialCount == 0) return 0;
        ulong partials = _partials.Get((partialCount + 1L) * sizeof(double)), total = partials + (ulong)partialCount * sizeof(double);
        ulong next = partials;
        for (int i = 0; i < ranges.Count; i++)
        {
            if (blocks[i] == 0) continue;
            device.Launch("c2f_reduce_sum_squares_partials_f32", new LaunchShape(new Dim3((uint)blocks[i]), new Dim3(Threads)),
                KernelArg.Pointer(ranges[i].Address), MemoryBoundLaunch.Int(ranges[i].Count, "count"), KernelArg.Pointer(next));
            next += (ulong)blocks[i] * sizeof(double);
        }
        // A whole model leaves ~10⁵ partials: the final block then takes its kernel's limit of 1024 threads.
        int finalThreads = partialCount > 8 * Threads ? 1024 : Threads;
        device.Launch("c2f_reduce_sum_f64", new LaunchShape(new Dim3(1), new Dim3((uint)finalThreads)), KernelArg.Pointer(partials),
            partialCount, KernelArg.Pointer(total));
        var result = new double[1];
        device.Download<double>(total, result);
        return result[0];
    }

    public void Dispose() => _partials.Dispose();
}
