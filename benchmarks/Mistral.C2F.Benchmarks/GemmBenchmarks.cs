using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Cpu.Gemm;

namespace Mistral.C2F.Benchmarks;

/// <summary>
/// Forward projections C = A·Bᵀ, our GEMM beside OpenBLAS's cblas_sgemm on the same operands and thread
/// count, on square sizes and the `small` preset's shapes; the summary adds GFLOP/s.
/// OpenBLAS takes its kernel from OPENBLAS_CORETYPE when that is set (some machines here set Haswell,
/// its AVX2 kernel); `OPENBLAS_CORETYPE=SkylakeX` selects its AVX-512 kernel. The setup log names it.
/// </summary>
[Config(typeof(Config))]
public unsafe class GemmBenchmarks
{
    private GemmShape.Operands _operands = null!;
    private CpuParallel _parallel = null!;

    public static IEnumerable<GemmShape> Shapes => GemmShape.All;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup(Target = nameof(Ours))]
    public void SetUpOurs()
    {
        _operands = new GemmShape.Operands(Shape, seed: 1);
        _parallel = new CpuParallel(Threads);
        Console.WriteLine($"// our micro-kernel: {CpuGemm.BestKernel}");
    }

    [GlobalSetup(Target = nameof(OpenBlasSgemm))]
    public void SetUpOpenBlas()
    {
        OpenBlas.EnsureAvailable();
        OpenBlas.SetThreads(Threads);
        _operands = new GemmShape.Operands(Shape, seed: 1);
        Console.WriteLine($"// OpenBLAS kernel: {OpenBlas.CoreName}");
    }

    [GlobalCleanup]
    public void CleanUp() => _operands.Dispose();

    [Benchmark(Description = "ours")]
    public void Ours() =>
        CpuGemm.Multiply(_operands.A, _operands.B, _operands.C, Shape.M, Shape.N, Shape.K, false, true, false, _parallel);

    [Benchmark(Baseline = true, Description = "OpenBLAS")]
    public void OpenBlasSgemm() =>
        OpenBlas.Sgemm(_operands.A, _operands.B, _operands.C, Shape.M, Shape.N, Shape.K, false, true);

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10));
            AddColumn(new ThroughputColumn("GFLOP/s", "2·m·n·k / mean time, in 10⁹ floating-point operations per second",
                benchmark => benchmark.Parameters["Shape"] is GemmShape shape ? shape.Flops / 1e9 : null));
            HideColumns(Column.Error, Column.StdDev);
        }
    }
}
