using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>The embedding lookup (a gather of token rows) and its backward (a scatter-add into the table's gradient), for random tokens.</summary>
internal static class EmbeddingCases
{
    public static IEnumerable<KernelBenchmarkCase> All(KernelBenchmarkShapes s) => [Forward(s, bf16: false), Forward(s, bf16: true), Backward(s)];

    /// <summary>Reads a table row and writes an output row per token.</summary>
    private static KernelBenchmarkCase Forward(KernelBenchmarkShapes s, bool bf16)
    {
        int tokens = s.Tokens, width = s.Hidden, vocab = s.Vocab, e = bf16 ? 2 : 4;
        var storage = bf16 ? KernelStorage.Bf16 : KernelStorage.F32;
        return new($"embedding fwd {PeerShape.Suffix(bf16)}", "embedding", $"{tokens}×{width} of {vocab}",
            PeerShape.Of(("tokens", tokens), ("width", width), ("vocab", vocab), ("dtype", PeerShape.DType(bf16))),
            KernelWork.Bytes(2.0 * tokens * width * e + tokens * 4.0),
            device =>
            {
                var a = new DeviceArena(device, 15);
                var kernels = a.Own(new RowKernels(device, a.Own(new KernelFaults(device))));
                ulong table = a.Floats((long)vocab * width, bf16), ids = a.Targets(tokens, vocab), output = a.Floats((long)tokens * width, bf16);
                return a.Launch(() => kernels.Gather(table, vocab, ids, output, tokens, width, storage));
            },
            bf16 ? null : backend =>
            {
                var a = new BackendArena(backend, 15);
                var (table, ids, output) = (a.F32(vocab, width), a.Targets(tokens, vocab), a.F32(tokens, width));
                return a.Launch(() => backend.GatherRows(table, ids, output));
            });
    }

    /// <summary>
    /// Float32, deterministic (repeated tokens add in row order): reads every gradient row and the tokens (twice), and
    /// reads and writes each table row the tokens touch, about V·(1 − (1 − 1/V)^N) of them for N random tokens.
    /// </summary>
    private static KernelBenchmarkCase Backward(KernelBenchmarkShapes s)
    {
        int tokens = s.Tokens, width = s.Hidden, vocab = s.Vocab;
        double touchedRows = vocab * (1 - Math.Pow(1 - 1.0 / vocab, tokens));
        return new("embedding bwd f32", "embedding", $"{tokens}×{width} of {vocab}",
            PeerShape.Of(("tokens", tokens), ("width", width), ("vocab", vocab), ("dtype", PeerShape.DType(false)), ("backward", true)),
            KernelWork.Bytes(4.0 * tokens * width + 8.0 * touchedRows * width + 8.0 * tokens),
            device =>
            {
                var a = new DeviceArena(device, 16);
                var kernels = a.Own(new RowKernels(device, a.Own(new KernelFaults(device))));
                ulong gradient = a.F32((long)tokens * width), ids = a.Targets(tokens, vocab), tableGradient = a.F32((long)vocab * width);
                return a.Launch(() => kernels.ScatterAdd(gradient, ids, tokens, tableGradient, vocab, width));
            },
            backend =>
            {
                var a = new BackendArena(backend, 16);
                var (gradient, ids, tableGradient) = (a.F32(tokens, width), a.Targets(tokens, vocab), a.F32(vocab, width));
                return a.Launch(() => backend.ScatterAddRows(gradient, ids, tableGradient));
            });
    }
}
