using System.Diagnostics;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Cpu.Gemm;

namespace Mistral.C2F.Benchmarks;

/// <summary>
/// `--gemm-quick [repeats] [shape]`: GFLOP/s of our GEMM and of OpenBLAS on each <see cref="GemmShape"/>
/// (or those whose name contains <c>shape</c>, or the one it names as MxNxK, say 1x32000x512 for a
/// decoding step): best and median of timed runs, seconds instead of
/// BenchmarkDotNet's minutes, for tuning. Ours run first: OpenBLAS's threads keep spinning for a while
/// after each call and would take the second core from ours.
/// </summary>
internal static unsafe class GemmQuick
{
    public static void Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0]) : 9;
        string filter = args.Length > 1 ? args[1] : "";
        OpenBlas.EnsureAvailable();
        Console.WriteLine($"our kernel: {CpuGemm.BestKernel}; OpenBLAS kernel: {OpenBlas.CoreName}");
        Console.WriteLine($"{"shape",-16} {"threads",7} {"ours best",10} {"ours med",9} {"blas best",10} {"blas med",9} {"ours/blas",10} {"rel diff",9}");
        var shapes = GemmShape.All.Where(s => s.ToString().Contains(filter)).ToList();
        if (shapes.Count == 0 && filter.Split('x') is [var m, var n, var k]) shapes.Add(new GemmShape(int.Parse(m), int.Parse(n), int.Parse(k)));
        foreach (var shape in shapes)
        {
            using var operands = new GemmShape.Operands(shape, seed: 1);
            var ours = new float[(long)shape.M * shape.N];
            foreach (int threads in new[] { 1, 2 })
            {
                var parallel = new CpuParallel(threads);
                OpenBlas.SetThreads(threads);
                var runOurs = () => CpuGemm.Multiply(operands.A, operands.B, operands.C, shape.M, shape.N, shape.K, false, true, false, parallel);
                var runBlas = () => OpenBlas.Sgemm(operands.A, operands.B, operands.C, shape.M, shape.N, shape.K, false, true);
                var (oursRates, blasRates) = (new double[repeats], new double[repeats]);
                WarmUp(runOurs);
                for (int r = 0; r < repeats; r++) oursRates[r] = Rate(shape, runOurs);
                WarmUp(runBlas);
                for (int r = 0; r < repeats; r++) blasRates[r] = Rate(shape, runBlas);
                Thread.Sleep(300);
                runOurs();
                new Span<float>(operands.C, ours.Length).CopyTo(ours);
                runBlas();
                double difference = RelativeDifference(ours, new ReadOnlySpan<float>(operands.C, ours.Length));
                Array.Sort(oursRates);
                Array.Sort(blasRates);
                Console.WriteLine($"{shape,-16} {threads,7} {oursRates[^1],10:F1} {oursRates[repeats / 2],9:F1} {blasRates[^1],10:F1} " +
                    $"{blasRates[repeats / 2],9:F1} {oursRates[^1] / blasRates[^1],10:P0} {difference,9:E1}");
            }
        }
    }

    /// <summary>At least 3 runs and 0.3 s: an idle core's clock and the thread pool take a few milliseconds to come up.</summary>
    private static void WarmUp(Action run)
    {
        long start = Stopwatch.GetTimestamp();
        for (int r = 0; r < 3 || Stopwatch.GetElapsedTime(start).TotalSeconds < 0.3; r++) run();
    }

    private static double Rate(GemmShape shape, Action run)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        return shape.Flops / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
    }

    private static double RelativeDifference(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            difference += (double)(x[i] - y[i]) * (x[i] - y[i]);
            norm += (double)y[i] * y[i];
        }
        return Math.Sqrt(difference / norm);
    }
}
