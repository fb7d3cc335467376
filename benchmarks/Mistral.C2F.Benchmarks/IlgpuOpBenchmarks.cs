using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Ilgpu;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Benchmarks;

/// <summary>
/// Representative ops on the ILGPU backend beside the float32 CPU backend (the baseline of each category,
/// so the ratio column reads "times slower than the CPU backend") at the same small shapes. By default
/// ILGPU runs on its CPU accelerator, which simulates a GPU with OS threads and barriers: the figures say
/// what running the GPU kernels on a CPU costs, not what they do on a GPU. Each ILGPU call waits for its
/// kernels (<see cref="IlgpuBackend.Synchronize"/>).
/// Run with `dotnet run -c Release -- --filter '*IlgpuOp*'`.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class IlgpuOpBenchmarks
{
    private const int GemmSize = 256, Rows = 256, Width = 1024, LogitRows = 64, Vocab = 4096;
    private static readonly AttentionSpec Heads = new(QueryHeads: 8, KvHeads: 2, HeadDim: 64, SlidingWindow: null);
    private const int Sequence = 128;

    private OpInputs _cpu = null!, _ilgpu = null!;
    private IlgpuBackend _ilgpuBackend = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cpu = new OpInputs(new CpuBackend());
        _ilgpuBackend = IlgpuBackend.Create(IlgpuDevice.Cpu);
        _ilgpu = new OpInputs(_ilgpuBackend);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cpu.Backend.Dispose();
        _ilgpuBackend.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("MatMul 256³")]
    public void MatMul_Cpu() => _cpu.MatMul();

    [Benchmark, BenchmarkCategory("MatMul 256³")]
    public void MatMul_Ilgpu() => Synchronized(_ilgpu.MatMul);

    [Benchmark(Baseline = true), BenchmarkCategory("Attention S=128 H=8/2 D=64")]
    public void Attention_Cpu() => _cpu.Attention();

    [Benchmark, BenchmarkCategory("Attention S=128 H=8/2 D=64")]
    public void Attention_Ilgpu() => Synchronized(_ilgpu.Attention);

    [Benchmark(Baseline = true), BenchmarkCategory("RmsNorm 256×1024")]
    public void RmsNorm_Cpu() => _cpu.RmsNorm();

    [Benchmark, BenchmarkCategory("RmsNorm 256×1024")]
    public void RmsNorm_Ilgpu() => Synchronized(_ilgpu.RmsNorm);

    [Benchmark(Baseline = true), BenchmarkCategory("TokenLogProbs 64×4096")]
    public void TokenLogProbs_Cpu() => _cpu.TokenLogProbs();

    [Benchmark, BenchmarkCategory("TokenLogProbs 64×4096")]
    public void TokenLogProbs_Ilgpu() => Synchronized(_ilgpu.TokenLogProbs);

    private void Synchronized(Action op)
    {
        op();
        _ilgpuBackend.Synchronize();
    }

    /// <summary>The same random inputs (seeded) on one backend.</summary>
    private sealed class OpInputs
    {
        private readonly Tensor _a, _b, _c, _q, _k, _v, _positions, _output, _lse, _x, _weight, _y, _logits, _targets, _logProbs, _rowLse;

        public OpInputs(Backend backend)
        {
            Backend = backend;
            var random = new Random(1);
            Tensor Random(params int[] dims)
            {
                var values = new float[new Shape(dims).ElementCount];
                for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
                return backend.FromFloats(values, dims);
            }
            (_a, _b, _c) = (Random(GemmSize, GemmSize), Random(GemmSize, GemmSize), backend.Allocate(GemmSize, GemmSize));
            (_q, _k, _v) = (Random(1, Sequence, Heads.QueryHeads * Heads.HeadDim), Random(1, Sequence, Heads.KvHeads * Heads.HeadDim),
                Random(1, Sequence, Heads.KvHeads * Heads.HeadDim));
            _positions = backend.FromInts(Enumerable.Range(0, Sequence).ToArray(), 1, Sequence);
            (_output, _lse) = (backend.Allocate(1, Sequence, Heads.QueryHeads * Heads.HeadDim), backend.Allocate(1, Heads.QueryHeads, Sequence));
            (_x, _weight, _y) = (Random(Rows, Width), Random(Width), backend.Allocate(Rows, Width));
            (_logits, _logProbs, _rowLse) = (Random(LogitRows, Vocab), backend.Allocate(LogitRows), backend.Allocate(LogitRows));
            _targets = backend.FromInts(Enumerable.Range(0, LogitRows).Select(_ => random.Next(Vocab)).ToArray(), LogitRows);
        }

        public Backend Backend { get; }

        public void MatMul() => Backend.MatMul(_a, _b, _c);
        public void Attention() => Backend.Attention(_q, _k, _v, _positions, _positions, Heads, _output, _lse);
        public void RmsNorm() => Backend.RmsNorm(_x, _weight, 1e-5f, _y);
        public void TokenLogProbs() => Backend.TokenLogProbs(_logits, _targets, _logProbs, _rowLse);
    }
}
