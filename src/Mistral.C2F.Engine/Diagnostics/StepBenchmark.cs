using System.Diagnostics;
using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Diagnostics;

/// <summary>What a timed step did, per step: its time, throughput, the model FLOP rate, and the time of each op.</summary>
/// <remarks>Op times are means over the timed steps, so compare them with <see cref="MeanStep"/>; throughput uses the median.</remarks>
/// <param name="Device">On a device backend, what one step after warm-up asked of the device (an extra step, unprofiled).</param>
public sealed record StepTiming(string Mode, int TokensPerStep, TimeSpan MedianStep, TimeSpan MeanStep, double TokensPerSecond,
    double GflopsPerSecond, IReadOnlyList<(string Op, TimeSpan PerStep, double CallsPerStep)> Ops, DeviceCounts? Device);

/// <summary>
/// Times whole steps of a model on random tokens: inference forward passes, or training steps (forward, backward,
/// gradient norm, AdamW). The first steps warm up (JIT, buffers) and are not counted; the median step is reported.
/// </summary>
public static class StepBenchmark
{
    public static StepTiming Train(MistralModel model, int batch, int length, int warmup, int steps, int seed = 0)
    {
        var gradients = model.AttachGradients();
        using var tape = new Tape(model.Backend);
        using var optimizer = new AdamWOptimizer(model.Backend, model.Parameters, gradients, new AdamWOptions());
        var data = CausalLmLoss.Batch.NextTokens(RandomRows(model.Config, batch, length, seed));
        return Time("train", model.Backend, batch * length, TrainingFlops(model.Config, batch, length), warmup, steps, () =>
        {
            CausalLmLoss.ForwardBackward(model, tape, data, data.LossTokens, optimizer.LossSum);
            optimizer.Apply(1e-6, maxGradNorm: 1.0);
        });
    }

    public static StepTiming Forward(MistralModel model, int batch, int length, int warmup, int steps, int seed = 0)
    {
        var rows = RandomRows(model.Config, batch, length, seed);
        using var tokens = model.Backend.FromInts(rows.SelectMany(r => r).ToArray(), batch, length);
        using var positions = model.Backend.FromInts(rows.SelectMany(r => Enumerable.Range(0, r.Length)).ToArray(), batch, length);
        return Time("forward", model.Backend, batch * length, ForwardFlops(model.Config, batch, length), warmup, steps,
            () => model.Forward(tokens, positions, layout: AttentionLayout.Sequences));
    }

    /// <summary>
    /// Decode steps through the rolling KV cache: <paramref name="batch"/> sequences after a prompt of
    /// <paramref name="promptLength"/> tokens, one new token each per step (the generation path).
    /// </summary>
    public static StepTiming Decode(MistralModel model, int batch, int promptLength, int warmup, int steps, int seed = 0)
    {
        var config = model.Config;
        using var cache = new Generation.KvCache(model, batch, config.SlidingWindow ?? promptLength + warmup + steps);
        var backend = model.Backend;
        var random = new Random(seed);
        int position = 0;
        void Chunk(int length)
        {
            var positions = Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(position, length)).ToArray();
            using var tokens = backend.FromInts(positions.Select(_ => random.Next(config.VocabSize)).ToArray(), batch, length);
            using var positionTensor = backend.FromInts(positions, batch, length);
            cache.BeginChunk(positions);
            backend.ToFloats(model.Forward(tokens, positionTensor, cache));
            cache.EndChunk();
            position += length;
        }
        Chunk(promptLength);
        return Time("decode", backend, batch, ForwardFlops(config, batch, 1), warmup, steps, () => Chunk(1));
    }

    /// <summary>The backend's best rate on a square n×n·n×nᵀ float GEMM, in GFLOP/s: the roofline a model step is judged against.</summary>
    public static double MatMulRate(Backend backend, int n = 1024, int repetitions = 5)
    {
        var random = new Random(1);
        var values = Enumerable.Range(0, n * n).Select(_ => (float)random.NextDouble()).ToArray();
        using var a = backend.FromFloats(values, n, n);
        using var b = backend.FromFloats(values, n, n);
        using var c = backend.Allocate(n, n);
        var best = TimeSpan.MaxValue;
        for (int i = 0; i <= repetitions; i++)
        {
            long start = Stopwatch.GetTimestamp();
            backend.MatMul(a, b, c, transposeB: true);
            if (i > 0) best = Math.Min(best.Ticks, Stopwatch.GetElapsedTime(start).Ticks) is var t ? TimeSpan.FromTicks(t) : best;
        }
        return 2.0 * n * n * n / best.TotalSeconds / 1e9;
    }

    /// <summary>
    /// Matmul FLOPs 2·(weights)·tokens plus attention 4·B·H·S·S_eff·D (docs/DEFINITIONS.md, "Counting attention FLOPs"), S_eff the mean number
    /// of keys a query sees under the causal sliding window.
    /// </summary>
    public static double ForwardFlops(MistralConfig config, int batch, int length) =>
        MatMulFlops(config, batch, length) + AttentionFlops(config, batch, length);

    /// <summary>The backward costs twice the forward's matmul FLOPs and 2.5 times its attention FLOPs.</summary>
    public static double TrainingFlops(MistralConfig config, int batch, int length) =>
        3 * MatMulFlops(config, batch, length) + 3.5 * AttentionFlops(config, batch, length);

    private static double MatMulFlops(MistralConfig config, int batch, int length)
    {
        long weights = MistralParameterNames.For(config)
            .Where(p => p.Shape.Rank == 2 && p.Name != MistralParameterNames.Embedding)
            .Sum(p => p.Shape.ElementCount) + (config.TieWordEmbeddings ? (long)config.VocabSize * config.HiddenSize : 0);
        return 2.0 * weights * batch * length;
    }

    private static double AttentionFlops(MistralConfig config, int batch, int length)
    {
        double keysSeen = Enumerable.Range(0, length).Average(i => Math.Min(i + 1, config.SlidingWindow ?? int.MaxValue));
        return 4.0 * batch * config.NumAttentionHeads * length * keysSeen * config.HeadDim * config.NumHiddenLayers;
    }

    private static StepTiming Time(string mode, Backend backend, int tokens, double flops, int warmup, int steps, Action step)
    {
        if (steps < 1 || warmup < 0) throw new ArgumentException($"need ≥ 1 timed step and ≥ 0 warm-up steps, got {steps} and {warmup}");
        for (int i = 0; i < warmup; i++) step();
        // Counted on a step of its own: the profiler waits for the device after every op, which the counts must not see.
        DeviceCounts? device = null;
        if (backend.Counts is { } before)
        {
            step();
            device = backend.Counts! - before;
        }
        var profile = new OpProfile();
        var previous = backend.Profile;
        backend.Profile = profile;
        var times = new List<TimeSpan>();
        try
        {
            for (int i = 0; i < steps; i++)
            {
                long start = Stopwatch.GetTimestamp();
                step();
                times.Add(Stopwatch.GetElapsedTime(start));
            }
        }
        finally
        {
            backend.Profile = previous;
        }
        var median = times.Order().ElementAt(times.Count / 2);
        var mean = TimeSpan.FromTicks((long)times.Average(t => t.Ticks));
        return new StepTiming(mode, tokens, median, mean, tokens / median.TotalSeconds, flops / median.TotalSeconds / 1e9,
            profile.Entries.Select(e => (e.Op, e.Time / steps, (double)e.Calls / steps)).ToList(), device);
    }

    private static int[][] RandomRows(MistralConfig config, int batch, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, length).Select(_ => random.Next(config.VocabSize)).ToArray()).ToArray();
    }
}
