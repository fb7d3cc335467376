using System.Globalization;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>A run of the suite: the device, the rooflines measured in it, every result, and what the comparison was.</summary>
public sealed record KernelBenchmarkReport(string Device, KernelBenchmarkScale Scale, DateTimeOffset Date, double CopyGigabytesPerSecond,
    double Bf16Teraflops, IReadOnlyList<KernelBenchmarkResult> Results, BackendComparison Comparison, bool HasPeers, bool TimedWithEvents)
{
    public static readonly string[] Columns = ["kernel", "shape", "time", "rate", "% of roofline", "vs PyTorch", "ILGPU time", "ILGPU/ours"];

    /// <summary>The cells of each result in <see cref="Columns"/> order, as the console table and the Markdown report show them.</summary>
    public IEnumerable<string[]> Rows() => Results.Select(r => new[]
    {
        r.Case.Name,
        r.Case.Shape,
        Milliseconds(r.Seconds),
        $"{Number(r.Rate)} {r.Case.Work.RateUnit}",
        $"{Number(100 * r.RooflineFraction)} %",
        r.PeerRatio is { } peer ? $"{peer:F2}×" : "–",
        r.ComparisonSeconds is { } other ? Milliseconds(other) : "–",
        r.ComparisonRatio is { } ratio ? $"{ratio:F2}×" : "–",
    });

    /// <summary>What the roofline and ratio columns mean, and why a column is empty.</summary>
    public IEnumerable<string> Notes()
    {
        yield return $"Rooflines measured in this run: copy {Number(CopyGigabytesPerSecond)} GB/s (our copy kernel), " +
            $"bf16 GEMM {Number(Bf16Teraflops)} TFLOP/s (our tensor-core GEMM); cuBLAS's rate is the PyTorch peer of the roofline GEMM row.";
        yield return "% of roofline: GB/s over the copy bandwidth for memory-bound kernels, TFLOP/s over the bf16 GEMM rate for the others.";
        yield return HasPeers ? "vs PyTorch: PyTorch's time over ours (above 1: ours is faster); – where PyTorch has no equivalent."
            : "vs PyTorch: no peers file given (tools/gpu-check/torch_peers.py writes one from --plan-out).";
        yield return Comparison.Unavailable is { } reason
            ? $"ILGPU: not timed ({reason})."
            : $"ILGPU: the same float32 op through {Comparison.Name}; ILGPU/ours above 1: ours is faster.";
        yield return TimedWithEvents
            ? "Times: median over repeats of back-to-back launches, device events around them (as PyTorch's peers are timed); ILGPU by the host clock."
            : "Times: median over repeats of back-to-back launches between synchronisations, host clock (exact for kernels ≥ ~10 µs).";
    }

    private static string Milliseconds(double seconds) => (seconds * 1e3).ToString(seconds < 1e-2 ? "F4" : "F2", CultureInfo.InvariantCulture) + " ms";

    private static string Number(double value) => value.ToString(value >= 100 ? "F0" : value >= 1 ? "F1" : "G3", CultureInfo.InvariantCulture);
}
