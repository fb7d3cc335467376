namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Row moves by index (kernels/rows.cu): the embedding lookup, KV-cache writes and the embedding backward.
/// A block per indexed row, 16-byte vectors where the rows allow. Index −1 means "no row"; any other index
/// outside the table is recorded in <see cref="KernelFaults"/> (thrown by its ThrowIfAny) and its row skipped.
/// </summary>
public sealed class RowKernels(IKernelDevice device, KernelFaults faults)
{
    private const int MaxThreads = 256;

    /// <summary>destination[i] = source[indices[i]] for i &lt; count, rows of <paramref name="width"/>; −1 writes zeros.</summary>
    public void Gather(ulong source, long sourceRows, ulong indices, ulong destination, long count, int width,
        KernelStorage storage = KernelStorage.F32) =>
        Launch($"c2f_rows_gather_{storage.Suffix()}", source, indices, destination, count, width, sourceRows, storage);

    /// <summary>destination[indices[i]] = source[i] (float32); −1 skips. Indices are expected distinct (cache slots).</summary>
    public void Scatter(ulong source, ulong indices, long count, ulong destination, long destinationRows, int width) =>
        Launch("c2f_rows_scatter_f32", source, indices, destination, count, width, destinationRows, KernelStorage.F32);

    /// <summary>
    /// destination[indices[i]] += source[i] (float32); −1 skips. Repeated indices add with float atomics, so the
    /// order of their additions (the last bits of the sum) may differ between runs.
    /// </summary>
    public void ScatterAdd(ulong source, ulong indices, long count, ulong destination, long destinationRows, int width) =>
        Launch("c2f_rows_scatter_add_f32", source, indices, destination, count, width, destinationRows, KernelStorage.F32);

    private void Launch(string kernel, ulong source, ulong indices, ulong destination, long count, int width, long tableRows,
        KernelStorage storage)
    {
        if (count == 0 || width == 0) return;
        device.Launch(kernel, MemoryBoundLaunch.RowBlocks(count, width, storage.VectorWidth(), MaxThreads),
            KernelArg.Pointer(source), KernelArg.Pointer(indices), KernelArg.Pointer(destination),
            MemoryBoundLaunch.Int(count, nameof(count)), width, MemoryBoundLaunch.Int(tableRows, nameof(tableRows)),
            KernelArg.Pointer(faults.Address));
    }
}
