namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Sums of float32 tensors in float64 (kernels/reduce.cu), deterministic: blocks reduce grid-stride shares of each
/// tensor to float64 partials side by side, then one block adds them all in order and writes the result on the
/// device, for any number of tensors (the global gradient norm of a whole model): nothing here waits.
/// </summary>
public sealed class ReductionKernels(IKernelDevice device) : IDisposable
{
    private const int Threads = 256;

    /// <summary>Eight blocks of 256 threads per multiprocessor fill it (1056 on an H100; the partials stay a few KiB per tensor).</summary>
    private readonly int _maxBlocks = 8 * Math.Max(1, device.Multiprocessors);

    private readonly KernelScratch _partials = new(device);

    /// <summary>total (a double) = Σ x² over every float32 range of <paramref name="ranges"/> (address, element count).</summary>
    public void SumOfSquares(IReadOnlyList<(ulong Address, long Count)> ranges, ulong total) =>
        Finish(Partials("c2f_reduce_sum_squares_partials_f32", ranges), "c2f_reduce_sum_f64", total);

    /// <summary>norm (a float) = √Σ x² over every float32 range of <paramref name="ranges"/>.</summary>
    public void Norm(IReadOnlyList<(ulong Address, long Count)> ranges, ulong norm) =>
        Finish(Partials("c2f_reduce_sum_squares_partials_f32", ranges), "c2f_reduce_finish_norm_f32", norm);

    /// <summary>total (a float) += scale · Σ x over <paramref name="count"/> float32 elements at <paramref name="x"/>.</summary>
    public void AccumulateSum(ulong x, long count, double scale, ulong total) =>
        Finish(Partials("c2f_reduce_sum_partials_f32", [(x, count)]), "c2f_reduce_finish_accumulate_f32", total, scale);

    /// <summary>Launches the partials kernel over each range; returns where the partials are and how many.</summary>
    private (ulong Address, int Count) Partials(string kernel, IReadOnlyList<(ulong Address, long Count)> ranges)
    {
        var blocks = ranges.Select(r => r.Count == 0 ? 0 : (int)Math.Clamp((r.Count / 4 + Threads - 1) / Threads, 1, _maxBlocks)).ToArray();
        int partialCount = blocks.Sum();
        ulong partials = _partials.Get(Math.Max(1, partialCount) * (long)sizeof(double)), next = partials;
        for (int i = 0; i < ranges.Count; i++)
        {
            if (blocks[i] == 0) continue;
            device.Launch(kernel, new LaunchShape(new Dim3((uint)blocks[i]), new Dim3(Threads)),
                KernelArg.Pointer(ranges[i].Address), MemoryBoundLaunch.Int(ranges[i].Count, "count"), KernelArg.Pointer(next));
            next += (ulong)blocks[i] * sizeof(double);
        }
        return (partials, partialCount);
    }

    /// <summary>One block adds the partials in order (none: a sum of 0) and writes the result at <paramref name="destination"/>.</summary>
    private void Finish((ulong Address, int Count) partials, string kernel, ulong destination, double? scale = null)
    {
        // A whole model leaves ~10⁵ partials: the final block then takes its kernel's limit of 1024 threads.
        int threads = partials.Count > 8 * Threads ? 1024 : Threads;
        var shape = new LaunchShape(new Dim3(1), new Dim3((uint)threads));
        if (scale is double s)
            device.Launch(kernel, shape, KernelArg.Pointer(partials.Address), partials.Count, s, KernelArg.Pointer(destination));
        else
            device.Launch(kernel, shape, KernelArg.Pointer(partials.Address), partials.Count, KernelArg.Pointer(destination));
    }

    public void Dispose() => _partials.Dispose();
}
