namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Row moves by index (kernels/rows.cu): the embedding lookup, KV-cache writes and the embedding backward.
/// A block per indexed row, 16-byte vectors where the rows allow. Index −1 means "no row"; any other index
/// outside the table is recorded in <see cref="KernelFaults"/> (thrown by its ThrowIfAny) and its row skipped.
/// </summary>
public sealed class RowKernels(IKernelDevice device, KernelFaults faults) : IDisposable
{
    private const int MaxThreads = 256;
    private const uint NoRow = 0x7FFFFFFF, NoLastRow = 0xFFFFFFFF;  // int.MaxValue and -1: the bounds of an index no row names

    /// <summary>Blocks striding over the rows in scatter-add's second pass: most rows only check that they own nothing.</summary>
    private const int MaxOwnerBlocks = 4096;

    /// <summary>Per destination row, the first and the last source row naming it (scatter-add's first pass).</summary>
    private readonly KernelScratch _bounds = new(device);

    /// <summary>destination[i] = source[indices[i]] for i &lt; count, rows of <paramref name="width"/>; −1 writes zeros.</summary>
    public void Gather(ulong source, long sourceRows, ulong indices, ulong destination, long count, int width,
        KernelStorage storage = KernelStorage.F32) =>
        Launch($"c2f_rows_gather_{storage.Suffix()}", source, indices, destination, count, width, sourceRows, storage);

    /// <summary>destination[indices[i]] = source[i] (float32); −1 skips. Indices are expected distinct (cache slots).</summary>
    public void Scatter(ulong source, ulong indices, long count, ulong destination, long destinationRows, int width) =>
        Launch("c2f_rows_scatter_f32", source, indices, destination, count, width, destinationRows, KernelStorage.F32);

    /// <summary>
    /// destination[indices[i]] += source[i] (float32); −1 skips. Repeated indices add in row order, so the result is
    /// the same on every run and equals the CPU backend's bit for bit. Two passes: each index's first and last row,
    /// then each index's first row adds all of its rows, a thread per column.
    /// </summary>
    public void ScatterAdd(ulong source, ulong indices, long count, ulong destination, long destinationRows, int width)
    {
        if (count == 0 || width == 0) return;
        int rows = MemoryBoundLaunch.Int(count, nameof(count)), tableRows = MemoryBoundLaunch.Int(destinationRows, nameof(destinationRows));
        ulong first = _bounds.Get(2L * tableRows * sizeof(int)), last = first + (ulong)tableRows * sizeof(int);
        device.Fill32(first, NoRow, tableRows);
        device.Fill32(last, NoLastRow, tableRows);
        device.Launch("c2f_rows_scatter_add_bounds", MemoryBoundLaunch.Flat(count, vectorWidth: 1),
            KernelArg.Pointer(indices), rows, tableRows, KernelArg.Pointer(first), KernelArg.Pointer(last), KernelArg.Pointer(faults.Address));
        int threads = Math.Min(MaxThreads, (width + 31) / 32 * 32);
        var shape = new LaunchShape(new Dim3((uint)Math.Min(rows, MaxOwnerBlocks), (uint)((width + threads - 1) / threads)), new Dim3((uint)threads));
        device.Launch("c2f_rows_scatter_add_owned_f32", shape, KernelArg.Pointer(source), KernelArg.Pointer(indices),
            KernelArg.Pointer(destination), rows, width, tableRows, KernelArg.Pointer(first), KernelArg.Pointer(last));
    }

    public void Dispose() => _bounds.Dispose();

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
