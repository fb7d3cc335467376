namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Σ x² in float64 (kernels/reduce.cu), deterministic: blocks reduce grid-stride shares to float64 partials,
/// one block adds them in order, and the single double is read back.
/// </summary>
public sealed class ReductionKernels(IKernelDevice device) : IDisposable
{
    private const int Threads = 256;

    /// <summary>Eight blocks of 256 threads per multiprocessor fill it (1056 on an H100; the partials stay a few KiB).</summary>
    private readonly int _maxBlocks = 8 * Math.Max(1, device.Multiprocessors);

    private readonly KernelScratch _partials = new(device);

    /// <summary>Σ x² over <paramref name="count"/> float32 elements at <paramref name="x"/>; synchronises.</summary>
    public double SumOfSquares(ulong x, long count)
    {
        if (count == 0) return 0;
        int blocks = (int)Math.Clamp((count / 4 + Threads - 1) / Threads, 1, _maxBlocks);
        ulong partials = _partials.Get((blocks + 1) * (long)sizeof(double)), total = partials + (ulong)blocks * sizeof(double);
        device.Launch("c2f_reduce_sum_squares_partials_f32", new LaunchShape(new Dim3((uint)blocks), new Dim3(Threads)),
            KernelArg.Pointer(x), MemoryBoundLaunch.Int(count, nameof(count)), KernelArg.Pointer(partials));
        device.Launch("c2f_reduce_sum_f64", new LaunchShape(new Dim3(1), new Dim3(Threads)), KernelArg.Pointer(partials), blocks,
            KernelArg.Pointer(total));
        var result = new double[1];
        device.Download<double>(total, result);
        return result[0];
    }

    public void Dispose() => _partials.Dispose();
}
