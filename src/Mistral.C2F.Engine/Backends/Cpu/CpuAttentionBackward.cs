using System.Numerics;
using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// FlashAttention-2-style backward on the CPU. Probabilities are recomputed per key block from the saved
/// log-sum-exp, p = exp(scale·q·k − lse), never stored as S×S. With Δ = rowsum(dO ∘ O) per query row:
/// dv += p·dO, dp = dO·vᵀ, ds = p·(dp − Δ), dq += scale·ds·k, dk += scale·ds·q.
/// <para>
/// A work item is (batch, kv head, stripe of key blocks). It owns dk and dv of its keys and, for each key
/// block, loops over every query row of the GQA group that can see it, so a kv head's gradient sums its
/// query heads without races and without recomputing anything. dq rows receive from every key block: with
/// one stripe per (batch, kv head) the item owns those rows too. When there are fewer (batch, kv head)
/// pairs than threads, keys are dealt to stripes block by block (interleaved, so a causal mask gives each
/// stripe a similar share); stripe 0 writes dq directly, every other stripe into its own zeroed buffer,
/// and the buffers are added afterwards in stripe order, so the result does not depend on scheduling.
/// </para>
/// </summary>
internal static unsafe class CpuAttentionBackward
{
    private const int KeyBlock = 64; // a multiple of 4 × every Vector<float>.Count
    private const int ItemsPerThread = 2;

    public static void Backward(float* q, float* k, float* v, int* queryPositions, int* keyPositions, AttentionSpec spec,
        int batch, int queryLength, int keyLength, float* output, float* logSumExp, float* outputGrad,
        float* queryGrad, float* keyGrad, float* valueGrad, CpuParallel parallel)
    {
        int pairs = batch * spec.KvHeads, keyBlocks = (keyLength + KeyBlock - 1) / KeyBlock;
        int stripes = Math.Clamp((ItemsPerThread * parallel.Threads + pairs - 1) / pairs, 1, Math.Max(1, keyBlocks));
        long queryGradLength = (long)batch * queryLength * spec.QueryHeads * spec.HeadDim;
        var stripeQueryGrads = new float[stripes - 1][];
        for (int s = 0; s < stripeQueryGrads.Length; s++) stripeQueryGrads[s] = new float[queryGradLength];

        parallel.ForEach(pairs * stripes, item =>
        {
            int stripe = item % stripes, pair = item / stripes;
            fixed (float* stripeQueryGrad = stripe == 0 ? null : stripeQueryGrads[stripe - 1])
            {
                var job = new KeyStripe(spec, pair / spec.KvHeads, pair % spec.KvHeads, stripe, stripes, queryLength, keyLength);
                job.Run(q, k, v, queryPositions, keyPositions, output, logSumExp, outputGrad,
                    stripe == 0 ? queryGrad : stripeQueryGrad, keyGrad, valueGrad);
            }
        });
        foreach (var stripeQueryGrad in stripeQueryGrads)
            fixed (float* partial = stripeQueryGrad)
                CpuElementwise.Add(queryGrad, partial, queryGrad, queryGradLength, parallel);
    }

    private readonly struct KeyStripe(AttentionSpec spec, int b, int kvHead, int stripe, int stripes, int queryLength, int keyLength)
    {
        private static int Width => Vector<float>.Count;

        // Head dim rounded up to whole vectors: packed rows carry zero tails, so no loop over it needs a remainder.
        private int Padded => (spec.HeadDim + Width - 1) / Width * Width;

        public void Run(float* q, float* k, float* v, int* queryPositions, int* keyPositions, float* output, float* logSumExp,
            float* outputGrad, float* queryGrad, float* keyGrad, float* valueGrad)
        {
            int d = spec.HeadDim, group = spec.GroupSize, padded = Padded;
            int* qPos = queryPositions + (long)b * queryLength;
            int* kPos = keyPositions + (long)b * keyLength;
            var (rowLse, rowDelta) = RowConstants(logSumExp, output, outputGrad);
            var (minQuery, maxQuery) = Range(qPos, queryLength);
            float scale = (float)spec.Scale;

            var keysTransposed = new float[d * KeyBlock];
            var valuesTransposed = new float[d * KeyBlock];
            var keyRows = new float[KeyBlock * padded];
            var keyGradBlock = new float[KeyBlock * padded];
            var valueGradBlock = new float[KeyBlock * padded];
            var mask = new float[KeyBlock];
            var probabilities = new float[KeyBlock];
            var scoreGrads = new float[KeyBlock];
            var queryRow = new float[padded];
            var outputGradRow = new float[padded];
            var queryGradRow = new float[padded];

            fixed (float* kt = keysTransposed, vt = valuesTransposed, kr = keyRows, dk = keyGradBlock, dv = valueGradBlock,
                   bias = mask, p = probabilities, ds = scoreGrads, qr = queryRow, dor = outputGradRow, dqr = queryGradRow)
            {
                for (int block = stripe * KeyBlock; block < keyLength; block += stripes * KeyBlock)
                {
                    int n = Math.Min(KeyBlock, keyLength - block);
                    var (minKey, maxKey) = ValidRange(kPos + block, n);
                    if (minKey > maxKey || !MaySee(minQuery, maxQuery, minKey, maxKey)) continue;
                    PackBlock(k, v, block, n, kt, vt, kr);
                    new Span<float>(dk, KeyBlock * padded).Clear();
                    new Span<float>(dv, KeyBlock * padded).Clear();
                    for (int i = 0; i < queryLength; i++)
                    {
                        if (!MaySee(qPos[i], qPos[i], minKey, maxKey) || Mask(qPos[i], kPos + block, n, bias) == 0) continue;
                        for (int h = 0; h < group; h++)
                        {
                            int row = i * group + h;
                            if (float.IsNegativeInfinity(rowLse[row])) continue;
                            long offset = (((long)b * queryLength + i) * spec.QueryHeads + kvHead * group + h) * d;
                            new Span<float>(q + offset, d).CopyTo(new Span<float>(qr, d));
                            new Span<float>(outputGrad + offset, d).CopyTo(new Span<float>(dor, d));
                            ScoresAndValueDots(qr, dor, kt, vt, p, ds);
                            ProbabilitiesAndScoreGrads(p, ds, bias, scale, rowLse[row], rowDelta[row]);
                            AccumulateBlock(p, ds, qr, dor, kr, dk, dv, dqr, n);
                            var dq = new Span<float>(queryGrad + offset, d);
                            TensorPrimitives.Add(dq, new ReadOnlySpan<float>(dqr, d), dq);
                        }
                    }
                    FlushBlock(dk, keyGrad, block, n);
                    FlushBlock(dv, valueGrad, block, n);
                }
            }
        }

        // lse and Δ = dO·O for every row (query i, head h of the group), row = i·group + h.
        private (float[] Lse, float[] Delta) RowConstants(float* logSumExp, float* output, float* outputGrad)
        {
            int d = spec.HeadDim, group = spec.GroupSize;
            var lse = new float[queryLength * group];
            var delta = new float[queryLength * group];
            for (int i = 0; i < queryLength; i++)
            for (int h = 0; h < group; h++)
            {
                int head = kvHead * group + h, row = i * group + h;
                lse[row] = logSumExp[((long)b * spec.QueryHeads + head) * queryLength + i];
                if (float.IsNegativeInfinity(lse[row])) continue;
                long offset = (((long)b * queryLength + i) * spec.QueryHeads + head) * d;
                delta[row] = TensorPrimitives.Dot(new ReadOnlySpan<float>(outputGrad + offset, d), new ReadOnlySpan<float>(output + offset, d));
            }
            return (lse, delta);
        }

        private static (int Min, int Max) Range(int* positions, int count)
        {
            int min = int.MaxValue, max = int.MinValue;
            for (int i = 0; i < count; i++) (min, max) = (Math.Min(min, positions[i]), Math.Max(max, positions[i]));
            return (min, max);
        }

        // The range of the block's filled slots (position ≥ 0); Min > Max when every slot is empty.
        private static (int Min, int Max) ValidRange(int* keyPositions, int n)
        {
            int min = int.MaxValue, max = int.MinValue;
            for (int j = 0; j < n; j++)
                if (keyPositions[j] >= 0) (min, max) = (Math.Min(min, keyPositions[j]), Math.Max(max, keyPositions[j]));
            return (min, max);
        }

        // Whether some query in [minQuery, maxQuery] might see some key in [minKey, maxKey]; Mask decides exactly.
        private bool MaySee(int minQuery, int maxQuery, int minKey, int maxKey) =>
            minKey <= maxQuery && (spec.SlidingWindow is not int window || (long)minQuery - window < maxKey);

        // 0 for a visible key, -inf for a hidden key or a slot past the block's end; returns the visible count.
        private int Mask(int queryPosition, int* keyPositions, int n, float* bias)
        {
            int visible = 0;
            for (int j = 0; j < KeyBlock; j++)
            {
                bool seen = j < n && spec.IsVisible(queryPosition, keyPositions[j]);
                bias[j] = seen ? 0 : float.NegativeInfinity;
                if (seen) visible++;
            }
            return visible;
        }

        // Keys transposed (for scores vectorised over keys), key rows padded (for dq vectorised over the head dim), values transposed.
        private void PackBlock(float* k, float* v, int block, int n, float* keysTransposed, float* valuesTransposed, float* keyRows)
        {
            int d = spec.HeadDim, padded = Padded;
            new Span<float>(keysTransposed, d * KeyBlock).Clear();
            new Span<float>(valuesTransposed, d * KeyBlock).Clear();
            new Span<float>(keyRows, KeyBlock * padded).Clear();
            for (int j = 0; j < n; j++)
            {
                long offset = (((long)b * keyLength + block + j) * spec.KvHeads + kvHead) * d;
                float* key = k + offset, value = v + offset;
                for (int e = 0; e < d; e++)
                {
                    keysTransposed[e * KeyBlock + j] = key[e];
                    valuesTransposed[e * KeyBlock + j] = value[e];
                    keyRows[j * padded + e] = key[e];
                }
            }
        }

        // s = q·Kᵀ and dp = dO·Vᵀ over the block's keys, four key vectors at a time: eight independent FMA chains.
        private void ScoresAndValueDots(float* queryRow, float* outputGradRow, float* keysTransposed, float* valuesTransposed,
            float* scores, float* valueDots)
        {
            int w = Width;
            for (int j = 0; j < KeyBlock; j += 4 * w)
            {
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                Vector<float> p0 = default, p1 = default, p2 = default, p3 = default;
                for (int e = 0; e < spec.HeadDim; e++)
                {
                    var qe = new Vector<float>(queryRow[e]);
                    var oe = new Vector<float>(outputGradRow[e]);
                    float* kt = keysTransposed + e * KeyBlock + j, vt = valuesTransposed + e * KeyBlock + j;
                    s0 = Vector.FusedMultiplyAdd(qe, *(Vector<float>*)kt, s0);
                    s1 = Vector.FusedMultiplyAdd(qe, *(Vector<float>*)(kt + w), s1);
                    s2 = Vector.FusedMultiplyAdd(qe, *(Vector<float>*)(kt + 2 * w), s2);
                    s3 = Vector.FusedMultiplyAdd(qe, *(Vector<float>*)(kt + 3 * w), s3);
                    p0 = Vector.FusedMultiplyAdd(oe, *(Vector<float>*)vt, p0);
                    p1 = Vector.FusedMultiplyAdd(oe, *(Vector<float>*)(vt + w), p1);
                    p2 = Vector.FusedMultiplyAdd(oe, *(Vector<float>*)(vt + 2 * w), p2);
                    p3 = Vector.FusedMultiplyAdd(oe, *(Vector<float>*)(vt + 3 * w), p3);
                }
                (*(Vector<float>*)(scores + j), *(Vector<float>*)(scores + j + w)) = (s0, s1);
                (*(Vector<float>*)(scores + j + 2 * w), *(Vector<float>*)(scores + j + 3 * w)) = (s2, s3);
                (*(Vector<float>*)(valueDots + j), *(Vector<float>*)(valueDots + j + w)) = (p0, p1);
                (*(Vector<float>*)(valueDots + j + 2 * w), *(Vector<float>*)(valueDots + j + 3 * w)) = (p2, p3);
            }
        }

        // In place: scores become p = exp(scale·s − lse) (0 where masked), value dots become scale·ds = scale·p·(dp − Δ).
        private static void ProbabilitiesAndScoreGrads(float* p, float* ds, float* bias, float scale, float lse, float delta)
        {
            int w = Width;
            var (scaleVector, lseVector) = (new Vector<float>(scale), new Vector<float>(lse));
            for (int j = 0; j < KeyBlock; j += w)
                *(Vector<float>*)(p + j) = Vector.FusedMultiplyAdd(*(Vector<float>*)(p + j), scaleVector, *(Vector<float>*)(bias + j) - lseVector);
            TensorPrimitives.Exp(new ReadOnlySpan<float>(p, KeyBlock), new Span<float>(p, KeyBlock));
            var deltaVector = new Vector<float>(delta);
            for (int j = 0; j < KeyBlock; j += w)
                *(Vector<float>*)(ds + j) = *(Vector<float>*)(p + j) * (*(Vector<float>*)(ds + j) - deltaVector) * scaleVector;
        }

        // dv_j += p_j·dO and dk_j += ds_j·q for each key j of the block; the row's dq = Σ_j ds_j·k_j.
        private void AccumulateBlock(float* p, float* ds, float* queryRow, float* outputGradRow, float* keyRows,
            float* keyGradBlock, float* valueGradBlock, float* queryGradRow, int n)
        {
            int w = Width, padded = Padded;
            new Span<float>(queryGradRow, padded).Clear();
            for (int j = 0; j < n; j++)
            {
                if (p[j] == 0) continue;
                var (pj, dsj) = (new Vector<float>(p[j]), new Vector<float>(ds[j]));
                float* dk = keyGradBlock + j * padded, dv = valueGradBlock + j * padded, key = keyRows + j * padded;
                for (int c = 0; c < padded; c += w)
                {
                    *(Vector<float>*)(dv + c) = Vector.FusedMultiplyAdd(pj, *(Vector<float>*)(outputGradRow + c), *(Vector<float>*)(dv + c));
                    *(Vector<float>*)(dk + c) = Vector.FusedMultiplyAdd(dsj, *(Vector<float>*)(queryRow + c), *(Vector<float>*)(dk + c));
                    *(Vector<float>*)(queryGradRow + c) = Vector.FusedMultiplyAdd(dsj, *(Vector<float>*)(key + c), *(Vector<float>*)(queryGradRow + c));
                }
            }
        }

        private void FlushBlock(float* gradBlock, float* grad, int block, int n)
        {
            int d = spec.HeadDim;
            for (int j = 0; j < n; j++)
            {
                var row = new Span<float>(grad + (((long)b * keyLength + block + j) * spec.KvHeads + kvHead) * d, d);
                TensorPrimitives.Add(row, new ReadOnlySpan<float>(gradBlock + j * Padded, d), row);
            }
        }
    }
}
