using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>Token log-probabilities (the cross-entropy of training) over the logits of a token batch, and their backward.</summary>
internal static class LogProbCases
{
    public static IEnumerable<KernelBenchmarkCase> All(KernelBenchmarkShapes s) =>
        [Forward(s, bf16: false), Forward(s, bf16: true), Backward(s)];

    /// <summary>Reads the logits once; the per-row outputs are small.</summary>
    private static KernelBenchmarkCase Forward(KernelBenchmarkShapes s, bool bf16)
    {
        int rows = s.Tokens, vocab = s.Vocab, e = bf16 ? 2 : 4;
        return new($"log-probs fwd {PeerShape.Suffix(bf16)}", "cross_entropy", $"{rows}×{vocab}",
            PeerShape.Of(("rows", rows), ("vocab", vocab), ("dtype", PeerShape.DType(bf16))),
            KernelWork.Bytes((double)rows * vocab * e + rows * 16.0),
            device =>
            {
                var a = new DeviceArena(device, 8);
                var kernels = new LogProbKernels(device, a.Own(new KernelFaults(device)));
                ulong logits = a.Floats((long)rows * vocab, bf16), targets = a.Targets(rows, vocab), logProbs = a.F32(rows), lse = a.F32(rows);
                var storage = bf16 ? KernelStorage.Bf16 : KernelStorage.F32;
                return a.Launch(() => kernels.Forward(logits, targets, logProbs, lse, 0, rows, vocab, storage));
            },
            bf16 ? null : backend =>
            {
                var a = new BackendArena(backend, 8);
                var (logits, targets, logProbs, lse) = (a.F32(rows, vocab), a.Targets(rows, vocab), a.F32(rows), a.F32(rows));
                return a.Launch(() => backend.TokenLogProbs(logits, targets, logProbs, lse));
            });
    }

    /// <summary>Float32; reads the logits and accumulates their gradient (read and write).</summary>
    private static KernelBenchmarkCase Backward(KernelBenchmarkShapes s)
    {
        int rows = s.Tokens, vocab = s.Vocab;
        long n = (long)rows * vocab;
        return new("log-probs bwd f32", "cross_entropy", $"{rows}×{vocab}",
            PeerShape.Of(("rows", rows), ("vocab", vocab), ("dtype", PeerShape.DType(false)), ("backward", true)),
            KernelWork.Bytes(3.0 * n * 4 + rows * 12.0),
            device =>
            {
                var a = new DeviceArena(device, 9);
                var kernels = new LogProbKernels(device, a.Own(new KernelFaults(device)));
                ulong logits = a.F32(n), targets = a.Targets(rows, vocab), lse = a.F32(rows), grad = a.F32(rows), logitsGrad = a.F32(n);
                kernels.Forward(logits, targets, a.F32(rows), lse, 0, rows, vocab);  // the real log-sum-exp the backward divides by
                return a.Launch(() => kernels.Backward(logits, targets, lse, grad, 0, 0, logitsGrad, rows, vocab));
            },
            backend =>
            {
                var a = new BackendArena(backend, 9);
                var (logits, targets, lse, grad, logitsGrad) = (a.F32(rows, vocab), a.Targets(rows, vocab), a.F32(rows), a.F32(rows), a.F32(rows, vocab));
                backend.TokenLogProbs(logits, targets, a.F32(rows), lse);
                return a.Launch(() => backend.TokenLogProbsBackward(logits, targets, lse, grad, null, null, logitsGrad));
            });
    }
}
