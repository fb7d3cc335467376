using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// The device tensors of one attention call, by address, with their sizes: q [B, Sq, Hq·D] and k, v [B, Sk, Hkv·D]
/// float32, query positions [B, Sq] and key positions [B, Sk] int32, where key position -1 marks an empty slot
/// of a rolling cache (slots may hold positions in any order).
/// </summary>
public readonly record struct AttentionOperands(ulong Q, ulong K, ulong V, ulong QueryPositions, ulong KeyPositions,
    int Batch, int QueryLength, int KeyLength);

/// <summary>
/// Float32 grouped-query softmax attention and its backward (kernels/attention_f32.cu), with the semantics of
/// <see cref="Backend.Attention"/> and <see cref="Backend.AttentionBackward"/>: key position kp is visible to query
/// position qp iff <see cref="AttentionSpec.IsVisible"/>; query head h reads kv head h / (Hq / Hkv); scores are
/// scaled by 1/√D; nothing of size Sq×Sk is stored. Head dims 1 to <see cref="MaxHeadDim"/>.
/// </summary>
public sealed class AttentionKernels(IKernelDevice device)
{
    /// <summary>The largest head dim the kernels hold (8 dimensions per lane).</summary>
    public const int MaxHeadDim = 256;

    // kernels/attention_f32.cu: 128 threads; a warp owns 4 rows (query × head of a GQA group) in forward and dq,
    // 4 keys in dk/dv; forward and dq stream keys in blocks of 32, dk/dv stream rows in tiles of 32.
    private const int Threads = 128, Warps = Threads / 32, PerWarp = 4, RowsPerBlock = Warps * PerWarp, KeysPerBlock = Warps * PerWarp;
    private const int KeyBlock = 32, RowTile = 32, WarpTiles = Warps * PerWarp * 32;

    /// <summary>
    /// output [B, Sq, Hq·D] = softmax(q·kᵀ/√D over the visible keys)·v, and, when <paramref name="logSumExp"/> is not
    /// 0, the log-sum-exp of each query's scaled scores into [B, Hq, Sq]. A query that sees no key gets a zero output
    /// and a log-sum-exp of -inf.
    /// </summary>
    public void Forward(AttentionOperands operands, AttentionSpec spec, ulong output, ulong logSumExp = 0)
    {
        var geometry = Geometry.Of(operands, spec);
        if (geometry.Rows == 0 || geometry.Pairs == 0) return;
        int sharedFloats = RowsPerBlock * geometry.BroadcastRow + 2 * KeyBlock * geometry.LaneRow + WarpTiles;
        device.Launch($"c2f_attention_forward_d{geometry.Bucket}_f32", geometry.Shape(geometry.RowTiles, sharedFloats),
            [.. geometry.Inputs(operands), KernelArg.Pointer(output), KernelArg.Pointer(logSumExp), .. geometry.Sizes(operands, spec)]);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/> from its output and log-sum-exp, recomputing the probabilities: accumulates
    /// (+=) dq [B, Sq, Hq·D], dk and dv [B, Sk, Hkv·D]; a kv head's gradient sums over its query heads. Two launches,
    /// neither with atomics, so the result does not depend on scheduling.
    /// </summary>
    public void Backward(AttentionOperands operands, AttentionSpec spec, ulong output, ulong logSumExp, ulong outputGrad,
        ulong queryGrad, ulong keyGrad, ulong valueGrad)
    {
        var geometry = Geometry.Of(operands, spec);
        if (geometry.Rows == 0 || geometry.Pairs == 0 || operands.KeyLength == 0) return;
        KernelArg[] saved = [KernelArg.Pointer(output), KernelArg.Pointer(logSumExp), KernelArg.Pointer(outputGrad)];

        int queryFloats = 2 * RowsPerBlock * geometry.BroadcastRow + 2 * KeyBlock * geometry.LaneRow + WarpTiles;
        device.Launch($"c2f_attention_backward_query_d{geometry.Bucket}_f32", geometry.Shape(geometry.RowTiles, queryFloats),
            [.. geometry.Inputs(operands), .. saved, KernelArg.Pointer(queryGrad), .. geometry.Sizes(operands, spec)]);

        int keyFloats = 2 * RowTile * geometry.LaneRow + 2 * KeysPerBlock * geometry.BroadcastRow + 2 * WarpTiles + RowTile;
        device.Launch($"c2f_attention_backward_key_value_d{geometry.Bucket}_f32",
            geometry.Shape((operands.KeyLength + KeysPerBlock - 1) / KeysPerBlock, keyFloats),
            [.. geometry.Inputs(operands), .. saved, KernelArg.Pointer(keyGrad), KernelArg.Pointer(valueGrad), .. geometry.Sizes(operands, spec)]);
    }

    /// <summary>Launch geometry: rows = Sq·G per (batch, kv head) pair; shared tiles hold rows of whole float4s.</summary>
    private readonly record struct Geometry(int Rows, int Pairs, int HeadDim)
    {
        public static Geometry Of(AttentionOperands operands, AttentionSpec spec)
        {
            spec.Validate();
            if (spec.HeadDim > MaxHeadDim)
                throw new ArgumentException($"the float32 attention kernels hold head dims up to {MaxHeadDim}, got {spec.HeadDim}");
            if (operands.Batch < 0 || operands.QueryLength < 0 || operands.KeyLength < 0)
                throw new ArgumentException($"negative attention sizes: {operands}");
            long pairs = (long)operands.Batch * spec.KvHeads;
            if (pairs > ushort.MaxValue)
                throw new ArgumentException($"batch × kv heads = {pairs} exceeds the grid's y extent {ushort.MaxValue}");
            return new Geometry(checked(operands.QueryLength * spec.GroupSize), (int)pairs, spec.HeadDim);
        }

        /// <summary>The entry points' head-dim bucket: 32·C for C = 1, 2, 4, 8 dimensions per lane.</summary>
        public int Bucket => HeadDim <= 32 ? 32 : HeadDim <= 64 ? 64 : HeadDim <= 128 ? 128 : 256;

        private int Float4s => (HeadDim + 3) / 4;

        /// <summary>A row of a tile read by all lanes at once: unpadded.</summary>
        public int BroadcastRow => 4 * Float4s;

        /// <summary>A row of a tile read by a different row per lane: an odd number of float4s, free of bank conflicts.</summary>
        public int LaneRow => 4 * (Float4s | 1);

        public int RowTiles => (Rows + RowsPerBlock - 1) / RowsPerBlock;

        public LaunchShape Shape(int tiles, int sharedFloats) =>
            new(new Dim3((uint)tiles, (uint)Pairs), new Dim3(Threads), sharedFloats * sizeof(float));

        public KernelArg[] Inputs(AttentionOperands o) =>
        [
            KernelArg.Pointer(o.Q), KernelArg.Pointer(o.K), KernelArg.Pointer(o.V),
            KernelArg.Pointer(o.QueryPositions), KernelArg.Pointer(o.KeyPositions),
        ];

        public KernelArg[] Sizes(AttentionOperands o, AttentionSpec spec) =>
            [o.Batch, o.QueryLength, o.KeyLength, spec.QueryHeads, spec.KvHeads, spec.HeadDim, spec.SlidingWindow ?? 0, (float)spec.Scale];
    }
}
