namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// The accelerator an <see cref="IlgpuBackend"/> picked, for <c>c2f info</c> and test reports.
/// <paramref name="FallbackReason"/> says why CUDA was not used when <see cref="IlgpuDevice.Auto"/> fell back to the CPU.
/// </summary>
public sealed record IlgpuAcceleratorInfo(IlgpuDevice Kind, string Name, int WarpSize, int MaxGroupSize, int Multiprocessors,
    long MemoryBytes, long MaxSharedMemoryPerGroup, string? FallbackReason)
{
    public override string ToString() =>
        $"ILGPU {Kind}: {Name}, warp {WarpSize}, max group {MaxGroupSize}, {Multiprocessors} multiprocessor(s), "
        + $"{MemoryBytes / (1 << 20)} MiB, shared memory per group {Math.Min(MaxSharedMemoryPerGroup, int.MaxValue) / 1024} KiB"
        + (FallbackReason is null ? "" : $" ({FallbackReason})");
}
