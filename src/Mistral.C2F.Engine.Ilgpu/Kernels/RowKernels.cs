using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Row moves by index (embedding lookup, KV-cache writes, embedding backward). A group owns one row at a
/// time and its threads sweep the columns, so reads and writes are coalesced; index -1 means "no row".
/// </summary>
internal sealed class RowKernels(KernelLaunch launch, DeviceFaults faults, DeviceScratch scratch)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> _gather =
        launch.Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>>(GatherKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> _scatter =
        launch.Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>>(ScatterKernel);
    private readonly Action<KernelConfig, ArrayView<int>, ArrayView<int>, int, ArrayView<int>> _scatterAddBounds =
        launch.Load<ArrayView<int>, ArrayView<int>, int, ArrayView<int>>(ScatterAddBoundsKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> _scatterAdd =
        launch.Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>>(ScatterAddKernel);

    /// <summary>dst[i] = src[indices[i]]; -1 writes zeros.</summary>
    public void Gather(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width) =>
        Launch(_gather, source, indices, destination, width, faults.View);

    /// <summary>dst[indices[i]] = src[i]; -1 skips. Indices are expected to be distinct (KV-cache slots).</summary>
    public void Scatter(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width) =>
        Launch(_scatter, source, indices, destination, width, faults.View);

    /// <summary>dst[indices[i]] += src[i]; -1 skips; repeated indices sum deterministically, in row order.</summary>
    public void ScatterAdd(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width)
    {
        if (indices.Length == 0 || width == 0) return;
        long destinationRows = destination.Length / width;
        var bounds = scratch.Get<int>(2 * destinationRows);
        bounds.MemSetToZero();
        launch.Counter.Launched();
        _scatterAddBounds(launch.GridStride(indices.Length), indices, bounds, width, faults.View);
        Launch(_scatterAdd, source, indices, destination, width, bounds);
    }

    /// <param name="ints">The fault record, or scatter-add's row bounds.</param>
    private void Launch(Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, ArrayView<int>> kernel,
        ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width, ArrayView<int> ints)
    {
        if (indices.Length == 0 || width == 0) return;
        int group = launch.WarpsCovering(width);
        kernel(new KernelConfig(launch.Groups(indices.Length, 1, group), group), source, indices, destination, width, ints);
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
    /// Scatter-add, pass 1: for each destination row, bounds[2i] = max(rows − row) and bounds[2i + 1] = max(row + 1)
    /// over the source rows naming it, so that both start at zero ("no row") and both are integer maxima, which do
    /// not depend on the order of the atomics: first = rows − bounds[2i], last = bounds[2i + 1] − 1.
    /// </summary>
    private static void ScatterAddBoundsKernel(ArrayView<int> indices, ArrayView<int> bounds, int width, ArrayView<int> faultRecord)
    {
        long destinationRows = bounds.Length / 2;
        for (long row = DeviceMath.GlobalThread; row < indices.Length; row += DeviceMath.GlobalThreads)
        {
            int index = indices[row];
            if (index == -1) continue;
            if (index < 0 || index >= destinationRows)
            {
                DeviceFaults.Report(faultRecord, DeviceFault.ScatterAddRowIndex, index, destinationRows);
                continue;
            }
            Atomic.Max(ref bounds[2L * index], (int)(indices.Length - row));
            Atomic.Max(ref bounds[2L * index + 1], (int)row + 1);
        }
    }

    /// <summary>
    /// Scatter-add, pass 2, race-free without float atomics: the group at the first row of an index owns that destination
    /// row and adds every source row with the same index up to its last one, in order, so the sum does not depend on
    /// scheduling (and equals the CPU backend's bit for bit). Other rows, and rows pass 1 found out of range, do nothing.
    /// </summary>
    private static void ScatterAddKernel(ArrayView<float> source, ArrayView<int> indices, ArrayView<float> destination, int width, ArrayView<int> bounds)
    {
        long destinationRows = destination.Length / width;
        for (long row = Grid.IdxX; row < indices.Length; row += Grid.DimX)
        {
            int index = indices[row];
            if (index < 0 || index >= destinationRows || indices.Length - bounds[2L * index] != row) continue;
            long last = bounds[2L * index + 1] - 1;
            for (long other = row; other <= last; other++)
            {
                if (indices[other] != index) continue;
                for (int c = Group.IdxX; c < width; c += Group.DimX)
                    destination[(long)index * width + c] += source[other * width + c];
            }
        }
    }
}
