using Mistral.C2F.Engine.Cuda.Driver;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// Runs a suite on a device: each case's buffers are allocated and filled once, the launch timed, the buffers
/// freed before the next case. The rooflines run first so every result can be read against them.
/// </summary>
public static class KernelBenchmarkRunner
{
    /// <param name="peers">PyTorch's milliseconds by case name (torch_peers.py's output), or null.</param>
    /// <param name="progress">Told each case's name before it runs.</param>
    public static KernelBenchmarkReport Run(IKernelDevice device, KernelBenchmarkSuite suite, IReadOnlyDictionary<string, double>? peers,
        BackendComparison comparison, Action<string>? progress = null)
    {
        var timing = suite.Shapes.Timing;
        using var events = (device as CudaDriverDevice)?.CreateTimer();
        using var flushBuffer = timing.FlushBytes > 0 ? device.Allocate(timing.FlushBytes) : null;
        // The flush goes through this device even for the ILGPU comparison: on one GPU both share the L2.
        Action? flush = flushBuffer is null ? null : () =>
        {
            device.Fill32(flushBuffer.Address, 0, flushBuffer.Bytes / sizeof(uint));
            device.Synchronize();
        };
        double Time(KernelBenchmarkCase c)
        {
            progress?.Invoke(c.Name);
            using var launch = c.Prepare(device);
            return KernelTimer.MedianSeconds(launch.Launch, device.Synchronize, timing, events, flush);
        }

        double? TimeOnComparison(KernelBenchmarkCase c)
        {
            if (comparison.Backend is not { } backend || c.PrepareOnBackend is not { } prepare) return null;
            progress?.Invoke($"{c.Name} ({comparison.Name})");
            using var launch = prepare(backend);
            return KernelTimer.MedianSeconds(launch.Launch, comparison.Synchronize, timing, flush: flush);
        }

        var (copy, gemm) = (suite.CopyRoofline, suite.GemmRoofline);
        double copySeconds = Time(copy), gemmSeconds = Time(gemm);
        double copyRate = copy.Work.Rate(copySeconds), gemmRate = gemm.Work.Rate(gemmSeconds);

        KernelBenchmarkResult Result(KernelBenchmarkCase c, double seconds)
        {
            double roofline = c.Work.Unit == WorkUnit.Bytes ? copyRate : gemmRate;
            double? peer = peers is not null && peers.TryGetValue(c.Name, out var ms) ? ms * 1e-3 / seconds : null;
            return new KernelBenchmarkResult(c, seconds, c.Work.Rate(seconds) / roofline, peer, TimeOnComparison(c));
        }

        var results = new List<KernelBenchmarkResult> { Result(copy, copySeconds), Result(gemm, gemmSeconds) };
        foreach (var c in suite.Kernels) results.Add(Result(c, Time(c)));
        return new KernelBenchmarkReport(device.Name, suite.Scale, DateTimeOffset.Now, copyRate, gemmRate, results, comparison, peers is not null, events is not null);
    }
}
