using Mistral.C2F.Engine.Backends.Cpu.Gemm;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>The float32 CPU backend: SIMD kernels, multithreaded over rows, heads and tiles.</summary>
public sealed unsafe partial class CpuBackend(int threads) : HostBackend
{
    private readonly CpuParallel _parallel = new(threads);

    public CpuBackend() : this(Environment.ProcessorCount) { }

    public override string Name => "cpu";
    public override DType FloatType => DType.F32;
    /// <summary>The threads it was made with: the most an op runs on.</summary>
    public int MaxThreads => _parallel.MaxThreads;

    /// <summary>
    /// Threads the next op runs on, 1 to <see cref="MaxThreads"/>: backends that share the cores (pipeline stages side by
    /// side) lower it while others run. Loss and gradients are the same bits on any thread count.
    /// </summary>
    public int Threads
    {
        get => _parallel.Threads;
        set => _parallel.Threads = value;
    }

    public override void Dispose()
    {
        _parallel.Dispose();
        base.Dispose();
    }

    protected override void RmsNormCore(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms) =>
        CpuRmsNorm.Forward(F(input), null, null, F(weight), F(output), inverseRms is null ? null : F(inverseRms),
            input.Shape.Rows, input.Shape.Columns, epsilon, _parallel);

    protected override void AddRmsNormCore(Tensor a, Tensor b, Tensor weight, float epsilon, Tensor sum, Tensor output, Tensor? inverseRms) =>
        CpuRmsNorm.Forward(F(a), F(b), F(sum), F(weight), F(output), inverseRms is null ? null : F(inverseRms),
            a.Shape.Rows, a.Shape.Columns, epsilon, _parallel);

    protected override void MatMulCore(Tensor a, Tensor b, Tensor c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate) =>
        CpuGemm.Multiply(F(a), F(b), F(c), m, n, k, transposeA, transposeB, accumulate, _parallel);

    protected override void RopeCore(Tensor x, Tensor positions, int headDim, double theta, bool inverse) =>
        CpuRope.Apply(F(x), I(positions), x.Shape.Rows, x.Shape.Columns, headDim, theta, inverse, _parallel);

    protected override void AttentionCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor? logSumExp) =>
        CpuAttention.Forward(F(q), F(k), F(v), I(queryPositions), I(keyPositions), spec, batch, queryLength, keyLength,
            F(output), logSumExp is null ? null : F(logSumExp), _parallel);

    protected override void SwiGluCore(Tensor gate, Tensor up, Tensor output) =>
        CpuElementwise.SwiGlu(F(gate), F(up), F(output), gate.ElementCount, _parallel);

    protected override void AddCore(Tensor a, Tensor b, Tensor output) =>
        CpuElementwise.Add(F(a), F(b), F(output), a.ElementCount, _parallel);

    private static float* F(Tensor t) => t.HostPointer<float>();
    private static int* I(Tensor t) => t.HostPointer<int>();
}
