using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// Launch geometry shared by the kernels: grid-stride kernels get enough groups to fill every
/// multiprocessor a few times over, never one group per element. No kernel uses groups of more than
/// 128 threads: that is plenty on a GPU, and ILGPU's CPU accelerator keeps one OS thread per thread of
/// the largest group it has run and wakes all of them at every launch.
/// </summary>
internal sealed class KernelLaunch(Accelerator accelerator, DeviceCounter counter)
{
    /// <summary>The most threads any kernel's group has; also the group of the elementwise kernels.</summary>
    public const int MaxGroupSize = 128;

    private const int WavesPerMultiprocessor = 4;

    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>What the backend asks of the accelerator: the kernels loaded by <c>Load</c> count their launches here.</summary>
    public DeviceCounter Counter { get; } = counter;

    /// <summary>Loads a kernel whose every launch is counted (<see cref="Counter"/>); one overload per parameter count in use.</summary>
    public Action<KernelConfig, T1, T2> Load<T1, T2>(Action<T1, T2> kernel) where T1 : struct where T2 : struct
    {
        var loaded = Accelerator.LoadStreamKernel(kernel);
        return (config, a1, a2) => { Counter.Launched(); loaded(config, a1, a2); };
    }

    public Action<KernelConfig, T1, T2, T3> Load<T1, T2, T3>(Action<T1, T2, T3> kernel) where T1 : struct where T2 : struct where T3 : struct
    {
        var loaded = Accelerator.LoadStreamKernel(kernel);
        return (config, a1, a2, a3) => { Counter.Launched(); loaded(config, a1, a2, a3); };
    }

    public Action<KernelConfig, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var loaded = Accelerator.LoadStreamKernel(kernel);
        return (config, a1, a2, a3, a4) => { Counter.Launched(); loaded(config, a1, a2, a3, a4); };
    }

    public Action<KernelConfig, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var loaded = Accelerator.LoadStreamKernel(kernel);
        return (config, a1, a2, a3, a4, a5) => { Counter.Launched(); loaded(config, a1, a2, a3, a4, a5); };
    }

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6> Load<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var loaded = Accelerator.LoadStreamKernel(kernel);
        return (config, a1, a2, a3, a4, a5, a6) => { Counter.Launched(); loaded(config, a1, a2, a3, a4, a5, a6); };
    }

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
