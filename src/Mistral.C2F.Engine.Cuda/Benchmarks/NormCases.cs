using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>RMSNorm forward (float32 and bf16 storage; alone and fused with the residual add) and backward, and RoPE, on the rows of a token batch.</summary>
internal static class NormCases
{
    private const float Epsilon = 1e-5f;
    private const double Theta = 1e6;  // Mistral-7B v0.3's rope_theta

    public static IEnumerable<KernelBenchmarkCase> All(KernelBenchmarkShapes s) =>
        [RmsNormForward(s, bf16: false), RmsNormForward(s, bf16: true), AddRmsNormForward(s, bf16: false), AddRmsNormForward(s, bf16: true),
            RmsNormBackward(s), Rope(s, bf16: false), Rope(s, bf16: true)];

    /// <summary>Reads x, writes y (and 1/rms per row).</summary>
    private static KernelBenchmarkCase RmsNormForward(KernelBenchmarkShapes s, bool bf16)
    {
        int rows = s.Tokens, width = s.Hidden, e = bf16 ? 2 : 4;
        return new($"rmsnorm fwd {PeerShape.Suffix(bf16)}", "rms_norm", $"{rows}×{width}",
            PeerShape.Of(("rows", rows), ("width", width), ("dtype", PeerShape.DType(bf16))),
            KernelWork.Bytes(2.0 * rows * width * e + width * e + rows * 4.0),
            device =>
            {
                var a = new DeviceArena(device, 1);
                var kernels = a.Own(new RmsNormKernels(device));
                ulong x = a.Floats((long)rows * width, bf16), w = a.Floats(width, bf16), y = a.Floats((long)rows * width, bf16), r = a.F32(rows);
                var storage = bf16 ? KernelStorage.Bf16 : KernelStorage.F32;
                return a.Launch(() => kernels.Forward(x, w, y, r, rows, width, Epsilon, storage));
            },
            bf16 ? null : backend =>
            {
                var a = new BackendArena(backend, 1);
                var (x, w, y, r) = (a.F32(rows, width), a.F32(width), a.F32(rows, width), a.F32(rows));
                return a.Launch(() => backend.RmsNorm(x, w, Epsilon, y, r));
            });
    }

    /// <summary>Reads x and the residual, writes their sum and y (and 1/rms per row).</summary>
    private static KernelBenchmarkCase AddRmsNormForward(KernelBenchmarkShapes s, bool bf16)
    {
        int rows = s.Tokens, width = s.Hidden, e = bf16 ? 2 : 4;
        return new($"add+rmsnorm fwd {PeerShape.Suffix(bf16)}", "rms_norm", $"{rows}×{width}",
            PeerShape.Of(("rows", rows), ("width", width), ("dtype", PeerShape.DType(bf16)), ("residual", true)),
            KernelWork.Bytes(4.0 * rows * width * e + width * e + rows * 4.0),
            device =>
            {
                var a = new DeviceArena(device, 14);
                var kernels = a.Own(new RmsNormKernels(device));
                long n = (long)rows * width;
                ulong x = a.Floats(n, bf16), residual = a.Floats(n, bf16), sum = a.Floats(n, bf16), w = a.Floats(width, bf16);
                ulong y = a.Floats(n, bf16), r = a.F32(rows);
                var storage = bf16 ? KernelStorage.Bf16 : KernelStorage.F32;
                return a.Launch(() => kernels.ResidualForward(x, residual, sum, w, y, r, rows, width, Epsilon, storage));
            },
            bf16 ? null : backend =>
            {
                var a = new BackendArena(backend, 14);
                var (x, residual, sum, w) = (a.F32(rows, width), a.F32(rows, width), a.F32(rows, width), a.F32(width));
                var (y, r) = (a.F32(rows, width), a.F32(rows));
                return a.Launch(() => backend.AddRmsNorm(x, residual, w, Epsilon, sum, y, r));
            });
    }

    /// <summary>Float32; reads x and dy, accumulates dx (read and write); the weight gradient's partials are small.</summary>
    private static KernelBenchmarkCase RmsNormBackward(KernelBenchmarkShapes s)
    {
        int rows = s.Tokens, width = s.Hidden;
        return new("rmsnorm bwd f32", "rms_norm", $"{rows}×{width}",
            PeerShape.Of(("rows", rows), ("width", width), ("dtype", PeerShape.DType(false)), ("backward", true)),
            KernelWork.Bytes(4.0 * rows * width * 4 + 2.0 * width * 4),
            device =>
            {
                var a = new DeviceArena(device, 2);
                var kernels = a.Own(new RmsNormKernels(device));
                long n = (long)rows * width;
                ulong x = a.F32(n), w = a.F32(width), dy = a.F32(n), dx = a.F32(n), dw = a.F32(width), r = a.F32(rows);
                kernels.Forward(x, w, a.F32(n), r, rows, width, Epsilon);  // a real 1/rms
                return a.Launch(() => kernels.Backward(x, w, r, dy, dx, dw, rows, width));
            },
            backend =>
            {
                var a = new BackendArena(backend, 2);
                var (x, w, dy, dx, dw, r) = (a.F32(rows, width), a.F32(width), a.F32(rows, width), a.F32(rows, width), a.F32(width), a.F32(rows));
                backend.RmsNorm(x, w, Epsilon, a.F32(rows, width), r);
                return a.Launch(() => backend.RmsNormBackward(x, w, r, dy, dx, dw));
            });
    }

    /// <summary>The query rotation in place: reads and writes [tokens, heads·headDim].</summary>
    private static KernelBenchmarkCase Rope(KernelBenchmarkShapes s, bool bf16)
    {
        int tokens = s.Tokens, heads = s.QueryHeads, headDim = s.HeadDim, e = bf16 ? 2 : 4;
        return new($"rope {PeerShape.Suffix(bf16)}", "rope", $"{tokens}×{heads}×{headDim}",
            PeerShape.Of(("tokens", tokens), ("heads", heads), ("head_dim", headDim), ("dtype", PeerShape.DType(bf16))),
            KernelWork.Bytes(2.0 * tokens * heads * headDim * e + tokens * 4.0),
            device =>
            {
                var a = new DeviceArena(device, 3);
                var kernels = new RopeKernels(device);
                ulong x = a.Floats((long)tokens * heads * headDim, bf16), positions = a.Positions(1, tokens);
                var storage = bf16 ? KernelStorage.Bf16 : KernelStorage.F32;
                return a.Launch(() => kernels.Rotate(x, positions, tokens, heads * headDim, headDim, Theta, inverse: false, storage));
            },
            bf16 ? null : backend =>
            {
                var a = new BackendArena(backend, 3);
                var (x, positions) = (a.F32(tokens, heads * headDim), a.Positions(1, tokens));
                return a.Launch(() => backend.Rope(x, positions, headDim, Theta));
            });
    }
}
