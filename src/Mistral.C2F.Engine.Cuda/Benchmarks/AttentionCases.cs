using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// Flash attention (bf16, tensor cores) forward and backward, causal and with the sliding window, and the float32
/// attention forward. FLOPs per docs/DEFINITIONS.md, "Counting attention FLOPs": forward 4·B·Hq·S·Sk_eff·D with Sk_eff the mean number of keys a
/// query sees; backward 2.5× that, also for the deterministic backward (which does 7/5 of it), so rates compare.
/// </summary>
internal static class AttentionCases
{
    public static IEnumerable<KernelBenchmarkCase> All(KernelBenchmarkShapes s) =>
    [
        Flash(s, window: null, backward: false), Flash(s, s.Window, backward: false),
        Flash(s, window: null, backward: true), Flash(s, s.Window, backward: true),
        Flash(s, window: null, backward: true, deterministic: true),
        F32Forward(s),
    ];

    /// <summary>Mean over queries i of the keys visible to i: min(i + 1, W), W = S when causal only.</summary>
    public static double MeanVisibleKeys(int length, int? window)
    {
        long w = window ?? length, sum = 0;
        for (long i = 0; i < length; i++) sum += Math.Min(i + 1, w);
        return (double)sum / length;
    }

    public static double ForwardFlops(KernelBenchmarkShapes s, int? window) =>
        4.0 * s.Batch * s.QueryHeads * s.Sequence * MeanVisibleKeys(s.Sequence, window) * s.HeadDim;

    private static AttentionSpec Spec(KernelBenchmarkShapes s, int? window) => new(s.QueryHeads, s.KvHeads, s.HeadDim, window);

    private static string Shape(KernelBenchmarkShapes s, int? window) =>
        $"B{s.Batch} S{s.Sequence} H{s.QueryHeads}/{s.KvHeads} D{s.HeadDim}{(window is { } w ? $" W{w}" : "")}";

    private static Dictionary<string, object> Peer(KernelBenchmarkShapes s, int? window, bool backward, bool bf16) => PeerShape.Of(
        ("batch", s.Batch), ("query_heads", s.QueryHeads), ("kv_heads", s.KvHeads), ("length", s.Sequence), ("head_dim", s.HeadDim),
        ("window", window ?? 0), ("backward", backward), ("dtype", PeerShape.DType(bf16)));

    private static KernelBenchmarkCase Flash(KernelBenchmarkShapes s, int? window, bool backward, bool deterministic = false)
    {
        var spec = Spec(s, window);
        string mask = window is null ? "causal" : "window";
        return new($"flash attention {(backward ? "bwd" : "fwd")} {mask} bf16{(deterministic ? " deterministic" : "")}", "attention",
            Shape(s, window), Peer(s, window, backward, bf16: true),
            KernelWork.Flops(ForwardFlops(s, window) * (backward ? 2.5 : 1)),
            device =>
            {
                var a = new DeviceArena(device, 12);
                var kernels = new FlashAttentionKernels(device);
                long rows = (long)s.Batch * s.Sequence, qn = rows * s.QueryHeads * s.HeadDim, kvn = rows * s.KvHeads * s.HeadDim;
                ulong q = a.Bf16(qn), k = a.Bf16(kvn), v = a.Bf16(kvn), o = a.Bf16(qn), lse = a.F32(rows * s.QueryHeads);
                if (!backward) return a.Launch(() => kernels.Forward(q, k, v, o, lse, s.Batch, s.Sequence, spec));
                kernels.Forward(q, k, v, o, lse, s.Batch, s.Sequence, spec);  // the output and log-sum-exp the backward reads
                ulong dO = a.Bf16(qn), scratch = a.F32(FlashAttentionKernels.BackwardScratchBytes(s.Batch, s.Sequence, spec) / sizeof(float));
                ulong dq = a.F32(qn), dk = a.F32(kvn), dv = a.F32(kvn);
                return a.Launch(() => kernels.Backward(q, k, v, o, lse, dO, scratch, dq, dk, dv, s.Batch, s.Sequence, spec,
                    deterministic: deterministic));
            });
    }

    private static KernelBenchmarkCase F32Forward(KernelBenchmarkShapes s)
    {
        var spec = Spec(s, window: null);
        return new("attention fwd causal f32", "attention", Shape(s, null), Peer(s, null, backward: false, bf16: false),
            KernelWork.Flops(ForwardFlops(s, null)),
            device =>
            {
                var a = new DeviceArena(device, 13);
                var kernels = new AttentionKernels(device);
                long rows = (long)s.Batch * s.Sequence;
                ulong q = a.F32(rows * s.QueryHeads * s.HeadDim), k = a.F32(rows * s.KvHeads * s.HeadDim), v = a.F32(rows * s.KvHeads * s.HeadDim);
                ulong positions = a.Positions(s.Batch, s.Sequence), o = a.F32(rows * s.QueryHeads * s.HeadDim), lse = a.F32(rows * s.QueryHeads);
                var operands = new AttentionOperands(q, k, v, positions, positions, s.Batch, s.Sequence, s.Sequence);
                return a.Launch(() => kernels.Forward(operands, spec, o, lse));
            },
            backend =>
            {
                var a = new BackendArena(backend, 13);
                var (q, k, v) = (a.F32(s.Batch, s.Sequence, s.QueryHeads * s.HeadDim), a.F32(s.Batch, s.Sequence, s.KvHeads * s.HeadDim),
                    a.F32(s.Batch, s.Sequence, s.KvHeads * s.HeadDim));
                var (positions, o, lse) = (a.Positions(s.Batch, s.Sequence), a.F32(s.Batch, s.Sequence, s.QueryHeads * s.HeadDim),
                    a.F32(s.Batch, s.QueryHeads, s.Sequence));
                return a.Launch(() => backend.Attention(q, k, v, positions, positions, spec, o, lse));
            });
    }
}
