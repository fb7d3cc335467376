using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>SwiGLU forward and backward on the MLP activations, multi-tensor AdamW and Σx² over one layer's parameters.</summary>
internal static class ElementwiseCases
{
    private static readonly AdamWStep Step = new(LearningRate: 1e-4f, Beta1: 0.9f, Beta2: 0.95f, Epsilon: 1e-8f, WeightDecay: 0.1f, Step: 10);

    public static IEnumerable<KernelBenchmarkCase> All(KernelBenchmarkShapes s) =>
        [SwiGlu(s, bf16: false), SwiGlu(s, bf16: true), SwiGluBackward(s), AdamW(s), SumOfSquares(s)];

    /// <summary>The parameter tensors of one decoder layer: q, k, v, o, gate, up, down and the two norms.</summary>
    public static long[] LayerParameterSizes(KernelBenchmarkShapes s)
    {
        long h = s.Hidden, kv = s.KvHidden, f = s.Intermediate;
        return [h * h, kv * h, kv * h, h * h, f * h, f * h, h * f, h, h];
    }

    /// <summary>Reads gate and up, writes the product.</summary>
    private static KernelBenchmarkCase SwiGlu(KernelBenchmarkShapes s, bool bf16)
    {
        int rows = s.Tokens, width = s.Intermediate, e = bf16 ? 2 : 4;
        long n = (long)rows * width;
        return new($"swiglu fwd {PeerShape.Suffix(bf16)}", "swiglu", $"{rows}×{width}",
            PeerShape.Of(("rows", rows), ("width", width), ("dtype", PeerShape.DType(bf16))),
            KernelWork.Bytes(3.0 * n * e),
            device =>
            {
                var a = new DeviceArena(device, 4);
                var kernels = new ElementwiseKernels(device);
                ulong gate = a.Floats(n, bf16), up = a.Floats(n, bf16), output = a.Floats(n, bf16);
                return a.Launch(() => kernels.SwiGlu(gate, up, output, n, bf16 ? KernelStorage.Bf16 : KernelStorage.F32));
            },
            bf16 ? null : backend =>
            {
                var a = new BackendArena(backend, 4);
                var (gate, up, output) = (a.F32(rows, width), a.F32(rows, width), a.F32(rows, width));
                return a.Launch(() => backend.SwiGlu(gate, up, output));
            });
    }

    /// <summary>Float32; reads gate, up and dout, accumulates both gradients (read and write).</summary>
    private static KernelBenchmarkCase SwiGluBackward(KernelBenchmarkShapes s)
    {
        int rows = s.Tokens, width = s.Intermediate;
        long n = (long)rows * width;
        return new("swiglu bwd f32", "swiglu", $"{rows}×{width}",
            PeerShape.Of(("rows", rows), ("width", width), ("dtype", PeerShape.DType(false)), ("backward", true)),
            KernelWork.Bytes(7.0 * n * 4),
            device =>
            {
                var a = new DeviceArena(device, 5);
                var kernels = new ElementwiseKernels(device);
                ulong gate = a.F32(n), up = a.F32(n), dout = a.F32(n), dgate = a.F32(n), dup = a.F32(n);
                return a.Launch(() => kernels.SwiGluBackward(gate, up, dout, dgate, dup, n));
            },
            backend =>
            {
                var a = new BackendArena(backend, 5);
                var (gate, up, dout, dgate, dup) = (a.F32(rows, width), a.F32(rows, width), a.F32(rows, width), a.F32(rows, width), a.F32(rows, width));
                return a.Launch(() => backend.SwiGluBackward(gate, up, dout, dgate, dup));
            });
    }

    /// <summary>
    /// One launch over every parameter of a layer: reads p, g, m, v and writes p, m, v (28 bytes per parameter).
    /// The op contract has no multi-tensor step, so the comparison runs AdamW tensor by tensor.
    /// </summary>
    private static KernelBenchmarkCase AdamW(KernelBenchmarkShapes s)
    {
        var sizes = LayerParameterSizes(s);
        long total = sizes.Sum();
        return new("adamw multi-tensor f32", "adamw", $"{sizes.Length} tensors, {total:N0}",
            PeerShape.Of(("sizes", sizes)),
            KernelWork.Bytes(28.0 * total),
            device =>
            {
                var a = new DeviceArena(device, 6);
                var tensors = sizes.Select((n, i) => new AdamWTensor(a.F32(n), a.F32(n), a.F32(n), a.PositiveF32(n), n, WeightDecay: i < 7)).ToList();
                var table = a.Own(new AdamWTable(device, tensors));
                var kernels = new AdamWKernels(device);
                return a.Launch(() => kernels.Step(table, Step));
            },
            backend =>
            {
                var a = new BackendArena(backend, 6);
                var tensors = sizes.Select(n => (P: a.F32((int)n), G: a.F32((int)n), M: a.F32((int)n), V: a.PositiveF32((int)n))).ToList();
                return a.Launch(() =>
                {
                    foreach (var t in tensors) backend.AdamW(t.P, t.G, t.M, t.V, Step);
                });
            });
    }

    /// <summary>Reads one layer's parameters once: the global gradient norm, left on the device (two launches, no wait).</summary>
    private static KernelBenchmarkCase SumOfSquares(KernelBenchmarkShapes s)
    {
        long n = LayerParameterSizes(s).Sum();
        return new("global norm f32", "sum_of_squares", $"{n:N0}",
            PeerShape.Of(("elements", n)),
            KernelWork.Bytes(4.0 * n),
            device =>
            {
                var a = new DeviceArena(device, 7);
                var kernels = a.Own(new ReductionKernels(device));
                ulong x = a.F32(n), norm = a.F32(1);
                return a.Launch(() => kernels.Norm([(x, n)], norm));
            },
            backend =>
            {
                var a = new BackendArena(backend, 7);
                var x = a.F32(checked((int)n));
                var norm = a.F32(1);
                return a.Launch(() => backend.GlobalNorm([x], norm));
            });
    }
}
