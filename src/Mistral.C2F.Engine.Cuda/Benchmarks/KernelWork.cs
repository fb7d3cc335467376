namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>What a kernel's rate is counted in: bytes it must move (memory-bound) or floating-point operations (compute-bound).</summary>
public enum WorkUnit
{
    Bytes,
    Flops,
}

/// <summary>The work of one launch: the least memory traffic the op needs, or its FLOPs.</summary>
public readonly record struct KernelWork(double Amount, WorkUnit Unit)
{
    public static KernelWork Bytes(double bytes) => new(bytes, WorkUnit.Bytes);

    public static KernelWork Flops(double flops) => new(flops, WorkUnit.Flops);

    /// <summary>GB/s for bytes, TFLOP/s for FLOPs, at <paramref name="seconds"/> per launch.</summary>
    public double Rate(double seconds) => Amount / seconds / (Unit == WorkUnit.Bytes ? 1e9 : 1e12);

    public string RateUnit => Unit == WorkUnit.Bytes ? "GB/s" : "TFLOP/s";
}
