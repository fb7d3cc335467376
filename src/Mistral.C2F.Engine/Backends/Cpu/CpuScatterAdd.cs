using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// dst[idx[i]] += src[i] (the embedding backward), where many rows may hit the same destination row.
/// Threads split the columns, not the rows: each owns a column range of every destination row, so
/// repeated indices never race and each element sums its rows in index order, as the reference does.
/// </summary>
internal static unsafe class CpuScatterAdd
{
    private const int ColumnBlock = 16; // a cache line of floats: threads meet at block edges, not mid-line, in aligned rows
    private const long MinimumElementsPerRange = 16384;

    public static void Rows(float* source, int* indices, float* destination, int count, long destinationRows, int width,
        CpuParallel parallel)
    {
        // Checked before any write, so a bad index leaves the destination untouched.
        for (int i = 0; i < count; i++)
            if (indices[i] != -1) HostBackend.RowIndex(indices[i], destinationRows, nameof(Backend.ScatterAddRows));

        long columnBlocks = (width + ColumnBlock - 1) / ColumnBlock;
        parallel.ForRanges(columnBlocks, (firstBlock, endBlock) =>
        {
            int first = (int)(firstBlock * ColumnBlock), columns = (int)Math.Min(width, endBlock * ColumnBlock) - first;
            for (int i = 0; i < count; i++)
            {
                if (indices[i] == -1) continue;
                var row = new Span<float>(destination + (long)indices[i] * width + first, columns);
                TensorPrimitives.Add(row, new ReadOnlySpan<float>(source + (long)i * width + first, columns), row);
            }
        }, minimumItemsPerRange: Math.Max(1, MinimumElementsPerRange / ((long)ColumnBlock * Math.Max(1, count))));
    }
}
