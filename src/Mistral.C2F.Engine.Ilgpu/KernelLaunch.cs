using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// Launch geometry shared by the kernels: grid-stride kernels get enough groups to fill every
/// multiprocessor a few times over, never one group per element. No kernel uses groups of more than
/// 128 threads: that is plenty on a GPU, and ILGPU's CPU accelerator keeps one OS thread per thread of
/// the largest group it has run and wakes all of them at every launch.
/// </summary>
internal sealed class KernelLaunch(Accelerator accelerator)
{
    /// <summary>The most threads any kernel's group has; also the group of the elementwise kernels.</summary>
    public const int MaxGroupSize = 128;

    private const int WavesPerMultiprocessor = 4;

    public Accelerator Accelerator { get; } = accelerator;

    public int WarpSize => Accelerator.WarpSize;

    /// <summary>Groups for <paramref name="items"/> work items of <paramref name="itemsPerGroup"/> each, capped at a few waves.</summary>
    public int Groups(long items, int itemsPerGroup, int groupSize)
    {
        long needed = (items + itemsPerGroup - 1) / itemsPerGroup;
        long resident = (long)Accelerator.NumMultiprocessors * Math.Max(1, Accelerator.MaxNumThreadsPerMultiprocessor / groupSize);
        return (int)Math.Clamp(needed, 1, Math.Max(1, resident * WavesPerMultiprocessor));
    }

    /// <summary>A 1D grid-stride launch over <paramref name="items"/> elements.</summary>
    public KernelConfig GridStride(long items, int groupSize = MaxGroupSize) => new(Groups(items, groupSize, groupSize), groupSize);

    /// <summary>A group of whole warps just covering <paramref name="items"/> once (rows narrower than a full group), at most <see cref="MaxGroupSize"/>.</summary>
    public int WarpsCovering(long items) => (int)Math.Clamp((items + WarpSize - 1) / WarpSize * WarpSize, WarpSize, MaxGroupSize);

    /// <summary>One warp per row: groups of <paramref name="warpsPerGroup"/> warps, grid-stride over rows.</summary>
    public KernelConfig WarpPerRow(long rows, int warpsPerGroup = 4) =>
        new(Groups(rows, warpsPerGroup, warpsPerGroup * WarpSize), warpsPerGroup * WarpSize);

    /// <summary>Fails clearly when a kernel's shared memory exceeds what a group may use on this accelerator.</summary>
    public void RequireSharedMemory(long bytes, string what)
    {
        if (bytes > Accelerator.MaxSharedMemoryPerGroup)
            throw new NotSupportedException(
                $"{what} needs {bytes} bytes of shared memory per group; {Accelerator.Name} offers {Accelerator.MaxSharedMemoryPerGroup}");
    }
}
