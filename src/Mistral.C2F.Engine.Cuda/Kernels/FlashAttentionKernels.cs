using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// The tensor-core flash attention of kernels/flash_attention.cu, for training sequences: bf16 q [B, S, Hq·D],
/// k and v [B, S, Hkv·D] (row-major, heads side by side), query i and key j at positions i and j of their
/// sequence, always causal, with the spec's sliding window W: query i sees key j iff i − W &lt; j ≤ i. Query
/// head h reads kv head h / (Hq / Hkv). Head dims 64 and 128, any S ≥ 1. Sequences may be right-padded: given
/// lengths (int32 [B]), slots at or past lengths[b] are empty, as position −1 is in the op contract: such a
/// query sees no key (zero output, log-sum-exp −inf, no gradient) and no query sees such a key. Scores, softmax
/// and every accumulation are float32; the probabilities enter the second product as bf16.
/// Addresses are device addresses of each tensor's first element; a lengths address of 0 means none.
/// </summary>
public sealed class FlashAttentionKernels(IKernelDevice device)
{
    // The tiles of kernels/flash_attention.cu (ForwardWarps, ForwardKeyTile, BackwardWarps, BackwardQueryTile,
    // QueryGradWarps, QueryGradKeyTile).
    private const int Threads = 256;
    private const int ForwardQueryTile = 128, ForwardKeyTile = 64;
    private const int BackwardKeyTile = 128, BackwardQueryTile = 64;
    private const int QueryGradThreads = 128, QueryGradQueryTile = 64, QueryGradKeyTile = 64;
    private const int DeltaRowsPerBlock = Threads / 32;
    private const int PaddedBf16 = 8;  // every shared-memory row is padded by 8 bf16

    public static bool Supports(AttentionSpec spec) => spec.HeadDim is 64 or 128;

    /// <summary>Bytes of the float32 scratch [B, Hq, S] that <see cref="Backward"/> takes (rowsum(dO ∘ O) per query).</summary>
    public static long BackwardScratchBytes(int batch, int sequenceLength, AttentionSpec spec) =>
        (long)batch * spec.QueryHeads * sequenceLength * sizeof(float);

    /// <summary>
    /// output [B, S, Hq·D] bf16 = softmax(scale · q·kᵀ over the visible keys) · v with scale = 1/√D, and
    /// logSumExp [B, Hq, S] float32: the natural log-sum-exp of the scaled visible scores of each query,
    /// which <see cref="Backward"/> takes. Every filled slot's query sees at least itself, so both are finite there.
    /// </summary>
    public void Forward(ulong q, ulong k, ulong v, ulong output, ulong logSumExp, int batch, int sequenceLength, AttentionSpec spec,
        ulong lengths = 0)
    {
        Check(batch, sequenceLength, spec);
        int d = spec.HeadDim;
        var shape = new LaunchShape(
            new Dim3(Blocks(sequenceLength, ForwardQueryTile), (uint)spec.QueryHeads, (uint)batch),
            new Dim3(Threads),
            6 * ForwardKeyTile * (d + PaddedBf16) * sizeof(ushort));  // three stages of (K, V) tiles
        device.Launch($"c2f_flash_attention_forward_d{d}_bf16", shape,
            KernelArg.Pointer(q), KernelArg.Pointer(k), KernelArg.Pointer(v), KernelArg.Pointer(output), KernelArg.Pointer(logSumExp),
            KernelArg.Pointer(lengths), sequenceLength, spec.QueryHeads, spec.KvHeads, Window(spec), (float)spec.Scale);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>, recomputing the probabilities from q, k and the saved log-sum-exp:
    /// accumulates (+=) the float32 gradients queryGrad [B, S, Hq·D], keyGrad and valueGrad [B, S, Hkv·D]
    /// (a kv head's gradient sums its query heads) from the bf16 outputGrad [B, S, Hq·D] and the bf16 output
    /// that Forward wrote. <paramref name="scratch"/> holds <see cref="BackwardScratchBytes"/> bytes; its
    /// contents do not matter and are overwritten.
    /// </summary>
    /// <param name="deterministic">
    /// dQ in a pass of its own, one block per query tile adding its rows once, instead of float32 atomics from every
    /// key tile (FlashAttention-2's way): the same bits on every run, for about 40 % more backward work (7 tile
    /// products per pair of tiles instead of 5).
    /// </param>
    public void Backward(ulong q, ulong k, ulong v, ulong output, ulong logSumExp, ulong outputGrad, ulong scratch,
        ulong queryGrad, ulong keyGrad, ulong valueGrad, int batch, int sequenceLength, AttentionSpec spec, ulong lengths = 0,
        bool deterministic = false)
    {
        Check(batch, sequenceLength, spec);
        int d = spec.HeadDim;
        long rowHeads = (long)batch * sequenceLength * spec.QueryHeads;
        device.Launch($"c2f_flash_attention_backward_delta_d{d}_bf16",
            new LaunchShape(new Dim3(checked((uint)((rowHeads + DeltaRowsPerBlock - 1) / DeltaRowsPerBlock))), new Dim3(Threads)),
            KernelArg.Pointer(output), KernelArg.Pointer(outputGrad), KernelArg.Pointer(scratch), batch, sequenceLength, spec.QueryHeads);

        int stride = d + PaddedBf16;
        int sharedBf16 = 2 * BackwardKeyTile * stride           // K, V
                         + 4 * BackwardQueryTile * stride       // Q, dO in two stages
                         + BackwardKeyTile * (BackwardQueryTile + PaddedBf16);  // dSᵀ
        var shape = new LaunchShape(
            new Dim3(Blocks(sequenceLength, BackwardKeyTile), (uint)spec.KvHeads, (uint)batch),
            new Dim3(Threads),
            sharedBf16 * sizeof(ushort) + 4 * BackwardQueryTile * sizeof(float));  // + (log-sum-exp, delta) in two stages
        KernelArg[] inputs = [KernelArg.Pointer(q), KernelArg.Pointer(k), KernelArg.Pointer(v), KernelArg.Pointer(outputGrad),
            KernelArg.Pointer(logSumExp), KernelArg.Pointer(scratch), KernelArg.Pointer(lengths)];
        KernelArg[] sizes = [sequenceLength, spec.QueryHeads, spec.KvHeads, Window(spec), (float)spec.Scale];
        if (!deterministic)
        {
            device.Launch($"c2f_flash_attention_backward_d{d}_bf16", shape,
                [.. inputs, KernelArg.Pointer(queryGrad), KernelArg.Pointer(keyGrad), KernelArg.Pointer(valueGrad), .. sizes]);
            return;
        }
        device.Launch($"c2f_flash_attention_backward_keys_d{d}_bf16", shape,
            [.. inputs, KernelArg.Pointer(keyGrad), KernelArg.Pointer(valueGrad), .. sizes]);
        var queryShape = new LaunchShape(
            new Dim3(Blocks(sequenceLength, QueryGradQueryTile), (uint)spec.QueryHeads, (uint)batch),
            new Dim3(QueryGradThreads),
            6 * QueryGradKeyTile * stride * sizeof(ushort));  // three stages of (K, V) tiles
        device.Launch($"c2f_flash_attention_backward_queries_d{d}_bf16", queryShape, [.. inputs, KernelArg.Pointer(queryGrad), .. sizes]);
    }

    private static void Check(int batch, int sequenceLength, AttentionSpec spec)
    {
        spec.Validate();
        if (!Supports(spec))
            throw new ArgumentException($"flash attention has head dims 64 and 128, not {spec.HeadDim}");
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        // Heads and batch are the grid's y and z, at most 65535 each.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, 65535);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spec.QueryHeads, 65535);
    }

    private static uint Blocks(int length, int tile) => (uint)((length + tile - 1) / tile);

    // The kernels read a window ≤ 0 as none.
    private static int Window(AttentionSpec spec) => spec.SlidingWindow ?? 0;
}
