using System.Diagnostics;
using Mistral.C2F.Engine.Cuda.Driver;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// Timing of device work: after the warm-up (module loading, caches), each sample times N back-to-back launches
/// and the median sample is kept; before every sample an untimed flush may evict the inputs from the L2 cache.
/// On a GPU the sample is the time between two device events around the launches
/// (what PyTorch's peers measure too), so even kernels of a few µs are resolved. Without events (the emulator,
/// the ILGPU comparison) it is a Stopwatch between synchronisations: the launches queue while the device runs,
/// so for kernels of about 10 µs and longer the host's launch cost hides behind device time; shorter kernels
/// read as the launch rate.
/// </summary>
public static class KernelTimer
{
    /// <summary>Median seconds per launch; <paramref name="events"/> times on the device when given.</summary>
    /// <param name="flush">Run before every sample, untimed, and finished before the sample starts.</param>
    public static double MedianSeconds(Action launch, Action synchronize, KernelTimingPlan plan, DeviceTimer? events = null, Action? flush = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.Repeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.Launches, 1);
        for (int i = 0; i < plan.Warmup; i++) launch();
        synchronize();
        var samples = new double[plan.Repeats];
        for (int r = 0; r < plan.Repeats; r++)
        {
            flush?.Invoke();
            var clock = Stopwatch.StartNew();
            events?.Start();
            for (int i = 0; i < plan.Launches; i++) launch();
            events?.Stop();
            synchronize();
            double seconds = events is null ? clock.Elapsed.TotalSeconds : events.ElapsedMilliseconds * 1e-3;
            samples[r] = seconds / plan.Launches;
        }
        Array.Sort(samples);
        return samples.Length % 2 == 1 ? samples[samples.Length / 2] : (samples[samples.Length / 2 - 1] + samples[samples.Length / 2]) / 2;
    }
}
