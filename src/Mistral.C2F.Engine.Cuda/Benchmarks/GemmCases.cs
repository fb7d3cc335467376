using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// The tensor-core bf16 GEMM on the three products of each Mistral-7B projection over a token batch, the
/// float32 GEMM, and the bf16 roofline (our own GEMM on a large cube). FLOPs = 2·m·n·k.
/// </summary>
internal static class GemmCases
{
    public static IEnumerable<KernelBenchmarkCase> All(KernelBenchmarkShapes s)
    {
        (string Name, int In, int Out)[] projections =
        [
            ("q/o", s.Hidden, s.Hidden), ("k/v", s.Hidden, s.KvHidden), ("gate/up", s.Hidden, s.Intermediate), ("down", s.Intermediate, s.Hidden),
        ];
        foreach (var (name, input, output) in projections)
        {
            // Forward y = x·Wᵀ; input gradient dx = dy·W; weight gradient dW += dyᵀ·x, accumulated in float32.
            yield return Bf16($"gemm NT {name}", s.Tokens, output, input, transposeA: false, transposeB: true, DType.BF16);
            yield return Bf16($"gemm NN {name}", s.Tokens, input, output, transposeA: false, transposeB: false, DType.BF16);
            yield return Bf16($"gemm TN {name}", output, input, s.Tokens, transposeA: true, transposeB: false, DType.F32);
        }
        yield return F32(s.Hidden);
    }

    /// <summary>The bf16 roofline: our tensor-core GEMM, NT, on size³ (cuBLAS's rate on the same cube is its torch peer).</summary>
    public static KernelBenchmarkCase Roofline(KernelBenchmarkShapes s) =>
        Bf16("gemm NT roofline", s.GemmRooflineSize, s.GemmRooflineSize, s.GemmRooflineSize, transposeA: false, transposeB: true, DType.BF16);

    private static KernelBenchmarkCase Bf16(string name, int m, int n, int k, bool transposeA, bool transposeB, DType output)
    {
        bool accumulate = output == DType.F32;
        return new($"{name} bf16", "matmul", $"{m}×{n}×{k}{(accumulate ? " +=f32" : "")}",
            PeerShape.Of(("m", m), ("n", n), ("k", k), ("dtype", PeerShape.DType(true))),
            KernelWork.Flops(2.0 * m * n * k),
            device =>
            {
                var arena = new DeviceArena(device, 10);
                var kernels = new GemmKernels(device);
                ulong a = arena.Bf16((long)m * k), b = arena.Bf16((long)k * n), c = arena.Floats((long)m * n, bf16: !accumulate);
                return arena.Launch(() => kernels.MatMulBf16(a, b, c, m, n, k, transposeA, transposeB, accumulate, output));
            });
    }

    /// <summary>Float32 NN on the CUDA cores, C = A·B on size³.</summary>
    private static KernelBenchmarkCase F32(int size) => new("gemm NN f32", "matmul", $"{size}×{size}×{size}",
        PeerShape.Of(("m", size), ("n", size), ("k", size), ("dtype", PeerShape.DType(false))),
        KernelWork.Flops(2.0 * size * size * size),
        device =>
        {
            var arena = new DeviceArena(device, 11);
            var kernels = new GemmKernels(device);
            ulong a = arena.F32((long)size * size), b = arena.F32((long)size * size), c = arena.F32((long)size * size);
            return arena.Launch(() => kernels.MatMul(a, b, c, size, size, size, transposeA: false, transposeB: false, accumulate: false));
        },
        backend =>
        {
            var arena = new BackendArena(backend, 11);
            var (a, b, c) = (arena.F32(size, size), arena.F32(size, size), arena.F32(size, size));
            return arena.Launch(() => backend.MatMul(a, b, c));
        });
}
