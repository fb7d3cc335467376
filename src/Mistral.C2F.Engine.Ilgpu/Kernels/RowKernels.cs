using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Row moves by index (embedding lookup, KV-cache writes, embedding backward). A group owns one row at a
/// time and its threads sweep the columns, so reads and writes are coalesced; index -1 means "no row".
/// </summary>
internal sealed class RowKernels(KernelLaunch launch, DeviceFaults faults)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> _gather =
        launch.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>>(GatherKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> _scatter =
        launch.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>>(ScatterKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> _scatterAdd =
        launch.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>>(ScatterAddKernel);

    /// <summary>dst[i] = src[indices[i]]; -1 writes zeros.</summary>
    public void Gather(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width) =>
        Launch(_gather, source, indices, destination, width);

    /// <summary>dst[indices[i]] = src[i]; -1 skips. Indices are expected to be distinct (KV-cache slots).</summary>
    public void Scatter(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width) =>
        Launch(_scatter, source, indices, destination, width);

    /// <summary>dst[indices[i]] += src[i]; -1 skips; repeated indices sum deterministically, in row order.</summary>
    public void ScatterAdd(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width) =>
        Launch(_scatterAdd, source, indices, destination, width);

    private void Launch(Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> kernel,
        ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width)
    {
        if (indices.Length == 0 || width == 0) return;
        int group = launch.WarpsCovering(width);
        kernel(new KernelConfig(launch.Groups(indices.Length, 1, group), group), source, indices, destination, width, faults.View);
    }

    private static void GatherKernel(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width, ArrayView<int> faultRecord)
    {
        long sourceRows = source.Length / width;
        for (long row = Grid.IdxX; row < indices.Length; row += Grid.DimX)
        {
            int index = indices[row];
            if (index < -1 || index >= sourceRows)
            {
                if (Group.IsFirstThread) DeviceFaults.Report(faultRecord, DeviceFault.GatherRowIndex, index, sourceRows);
                continue;
            }
            for (int c = Group.IdxX; c < width; c += Group.DimX)
                destination[row * width + c] = index == -1 ? 0f : source[(long)index * width + c];
        }
    }

    private static void ScatterKernel(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width, ArrayView<int> faultRecord)
    {
        long destinationRows = destination.Length / width;
        for (long row = Grid.IdxX; row < indices.Length; row += Grid.DimX)
        {
            int index = indices[row];
            if (index == -1) continue;
            if (index < 0 || index >= destinationRows)
            {
                if (Group.IsFirstThread) DeviceFaults.Report(faultRecord, DeviceFault.ScatterRowIndex, index, destinationRows);
                continue;
            }
            for (int c = Group.IdxX; c < width; c += Group.DimX)
                destination[(long)index * width + c] = source[row * width + c];
        }
    }

    /// <summary>
    /// Race-free without atomics: the group at the first occurrence of an index owns that destination row
    /// and adds every source row with the same index, in order, so the sum does not depend on scheduling.
    /// Rows that are not first occurrences find an earlier one (one group-wide vote) and do nothing.
    /// Cost: each owner scans the indices after it, O(rows²) index reads in all, cheap next to the row data
    /// for batches of a few thousand tokens.
    /// </summary>
    private static void ScatterAddKernel(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width, ArrayView<int> faultRecord)
    {
        long destinationRows = destination.Length / width;
        for (long row = Grid.IdxX; row < indices.Length; row += Grid.DimX)
        {
            int index = indices[row];
            if (index == -1) continue;
            if (index < 0 || index >= destinationRows)
            {
                if (Group.IsFirstThread) DeviceFaults.Report(faultRecord, DeviceFault.ScatterAddRowIndex, index, destinationRows);
                continue;
            }
            bool seenEarlier = false;
            for (long earlier = Group.IdxX; earlier < row; earlier += Group.DimX) seenEarlier |= indices[earlier] == index;
            if (Group.BarrierOr(seenEarlier)) continue;
            for (long other = row; other < indices.Length; other++)
            {
                if (indices[other] != index) continue;
                for (int c = Group.IdxX; c < width; c += Group.DimX)
                    destination[(long)index * width + c] += source[other * width + c];
            }
        }
    }
}
