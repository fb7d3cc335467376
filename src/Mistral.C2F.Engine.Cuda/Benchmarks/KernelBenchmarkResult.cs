namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// One measured case. <see cref="RooflineFraction"/>: its rate over the copy bandwidth (bytes) or the bf16 GEMM rate
/// (FLOPs) measured in the same run. <see cref="PeerRatio"/>: PyTorch's time over ours (above 1: ours is faster).
/// <see cref="ComparisonSeconds"/>: the same op through the comparison backend (ILGPU), when it has one.
/// </summary>
public sealed record KernelBenchmarkResult(KernelBenchmarkCase Case, double Seconds, double RooflineFraction, double? PeerRatio,
    double? ComparisonSeconds)
{
    public double Rate => Case.Work.Rate(Seconds);

    /// <summary>Comparison time over ours (above 1: ours is faster).</summary>
    public double? ComparisonRatio => ComparisonSeconds / Seconds;
}
