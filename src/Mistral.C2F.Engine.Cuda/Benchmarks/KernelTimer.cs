using System.Diagnostics;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// Host-clock timing of device work: after the warm-up (module loading, caches), each sample is a Stopwatch around
/// N back-to-back launches bracketed by synchronisations, and the median sample is kept. The launches queue on
/// the stream while the device runs, so for kernels of about 10 µs and longer the host's launch cost (a few µs)
/// hides behind device time and the clock measures the kernels; shorter kernels read as the launch rate.
/// Device events (DeviceTimer) would resolve shorter kernels, but need the driver; this works on any device.
/// </summary>
public static class KernelTimer
{
    /// <summary>Median seconds per launch.</summary>
    public static double MedianSeconds(Action launch, Action synchronize, KernelTimingPlan plan)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.Repeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.Launches, 1);
        for (int i = 0; i < plan.Warmup; i++) launch();
        synchronize();
        var samples = new double[plan.Repeats];
        for (int r = 0; r < plan.Repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < plan.Launches; i++) launch();
            synchronize();
            samples[r] = clock.Elapsed.TotalSeconds / plan.Launches;
        }
        Array.Sort(samples);
        return samples.Length % 2 == 1 ? samples[samples.Length / 2] : (samples[samples.Length / 2 - 1] + samples[samples.Length / 2]) / 2;
    }
}
