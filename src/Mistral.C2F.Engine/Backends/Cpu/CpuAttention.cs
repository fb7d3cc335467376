using System.Numerics;
using System.Runtime.CompilerServices;
using Mistral.C2F.Engine.Backends.Cpu.Gemm;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// Flash-style attention forward on the CPU with the query rows in the vector lanes. Row r of a kv head is query
/// r / group, query head r % group; a work item is (batch, kv head, chunk of <see cref="Vector{T}.Count"/> rows).
/// Every lane reads the same keys and values, so q·kᵀ and p·v broadcast one element of a key or value against a
/// vector of rows: keys and values are read where they lie, nothing is transposed, and the online softmax (max, exp,
/// sum, rescaling) runs lane by lane with no horizontal reductions.
/// <para>
/// Keys stream in blocks: a block no lane can see is skipped, one every lane sees whole needs no mask, and a partly
/// visible one (the diagonal of a causal mask, the edge of a window) is trimmed to the slots some lane may see.
/// Each output row is computed by one item in a fixed order, so the result does not depend on scheduling.
/// </para>
/// </summary>
internal static unsafe class CpuAttention
{
    private const int KeyBlock = 64; // a multiple of Chains; a block's scores, KeyBlock vectors, stay in L1 between the softmax and p·v
    private const int Chains = 8; // keys per pass of the score kernel, head-dim elements per pass of p·v: independent FMA chains

    [ThreadStatic] private static AlignedBuffer? t_scratch;

    private static int Width => Vector<float>.Count;

    public static void Forward(float* q, float* k, float* v, int* queryPositions, int* keyPositions, AttentionSpec spec,
        int batch, int queryLength, int keyLength, float* output, float* logSumExp, CpuParallel parallel)
    {
        int chunks = (queryLength * spec.GroupSize + Width - 1) / Width;
        parallel.ForEach(batch * spec.KvHeads * chunks, item =>
        {
            int chunk = item % chunks, pair = item / chunks;
            var job = new RowChunk(spec, pair / spec.KvHeads, pair % spec.KvHeads, chunk, queryLength, keyLength);
            job.Run(q, k, v, queryPositions, keyPositions, output, logSumExp);
        });
    }

    private readonly struct RowChunk(AttentionSpec spec, int b, int kvHead, int chunk, int queryLength, int keyLength)
    {
        // Rows of the chunk; lanes past them (in the last chunk) repeat lane 0 and are never written out.
        private int Rows => Math.Min(Width, queryLength * spec.GroupSize - chunk * Width);

        private (int Query, int Head) RowOf(int lane)
        {
            int row = chunk * Width + (lane < Rows ? lane : 0);
            return (row / spec.GroupSize, kvHead * spec.GroupSize + row % spec.GroupSize);
        }

        private long Offset(int query, int head) => (((long)b * queryLength + query) * spec.QueryHeads + head) * spec.HeadDim;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(float* q, float* k, float* v, int* queryPositions, int* keyPositions, float* output, float* logSumExp)
        {
            int d = spec.HeadDim, w = Width;
            // Scratch, [head dim × lanes] each: the chunk's queries (scaled) and its output accumulator; then the block's scores.
            float* queries = (t_scratch ??= new AlignedBuffer()).Reserve((2L * d + KeyBlock) * w), accumulator = queries + d * w, scores = accumulator + d * w;
            new Span<float>(accumulator, d * w).Clear();
            var (positions, lowest, minQuery, maxQuery, allSee) = LoadQueries(q, queryPositions + (long)b * queryLength, queries);
            var (maximum, sum) = (new Vector<float>(float.NegativeInfinity), Vector<float>.Zero);

            long stride = (long)spec.KvHeads * d, origin = (long)b * keyLength * stride + kvHead * d; // key j at origin + j·stride
            int* kPos = keyPositions + (long)b * keyLength;
            for (int block = 0; block < keyLength; block += KeyBlock)
            {
                int n = Math.Min(KeyBlock, keyLength - block);
                var slots = CpuAttentionBlocks.KeySlots(kPos + block, n);
                if (slots.Min > slots.Max || !spec.MaySee(minQuery, maxQuery, slots.Min, slots.Max)) continue;
                bool whole = allSee && slots.Full && spec.SeesAll(minQuery, maxQuery, slots.Min, slots.Max);
                var (start, end) = whole ? (block, block + n) : Trim(kPos, block, n, minQuery, maxQuery);
                if (start >= end) continue;
                int count = end - start;
                int* masked = whole ? null : kPos + start; // the slots' positions where lanes must be masked
                var blockMax = Scores(k + origin + start * stride, stride, count, queries, scores, masked, positions, lowest);

                // Online softmax: lanes that have seen no key yet keep a max of -inf, shifted by 0 so that exp stays finite (0).
                var newMax = Vector.MaxNative(maximum, blockMax);
                var shift = Vector.ConditionalSelect(Vector.Equals(newMax, new Vector<float>(float.NegativeInfinity)), Vector<float>.Zero, newMax);
                var correction = CpuExp.Exp(maximum - shift);
                sum = sum * correction + Exponentiate(scores, count, shift);
                maximum = newMax;
                AccumulateValues(v + origin + start * stride, stride, count, scores, correction, accumulator, masked, positions, lowest);
            }
            Finish(accumulator, maximum, sum, output, logSumExp);
        }

        // Writes the chunk's queries transposed and pre-scaled into [head dim × lanes]; returns the lanes' positions, the
        // position each lane's keys must exceed (the window's edge or -1), the range of real positions (≥ 0), and whether
        // every lane is a real query (a -1 one sees nothing, so no block is whole for it).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private (Vector<int> Positions, Vector<int> Lowest, int Min, int Max, bool AllSee) LoadQueries(float* q, int* qPos, float* queries)
        {
            int d = spec.HeadDim, w = Width;
            float scale = (float)spec.Scale;
            Span<int> lanes = stackalloc int[w];
            int min = int.MaxValue, max = int.MinValue;
            for (int lane = 0; lane < w; lane++)
            {
                var (query, head) = RowOf(lane);
                float* row = q + Offset(query, head);
                for (int e = 0; e < d; e++) queries[e * w + lane] = row[e] * scale;
                lanes[lane] = qPos[query];
                if (lanes[lane] >= 0) (min, max) = (Math.Min(min, lanes[lane]), Math.Max(max, lanes[lane]));
            }
            var positions = new Vector<int>(lanes);
            // key position kp is visible iff lowest < kp ≤ position, with lowest = max(position − window, −1): AttentionSpec.IsVisible.
            var lowest = spec.SlidingWindow is int window
                ? Vector.Max(positions - new Vector<int>(window), new Vector<int>(-1))
                : new Vector<int>(-1);
            return (positions, lowest, min, max, Vector.GreaterThanOrEqualAll(positions, Vector<int>.Zero));
        }

        // The slots [start, end) of a block from the first to the last one that some lane might see: a position in
        // (max(minQuery − window, −1), maxQuery].
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private (int Start, int End) Trim(int* kPos, int block, int n, int minQuery, int maxQuery)
        {
            long floor = spec.SlidingWindow is int window ? Math.Max((long)minQuery - window, -1) : -1;
            int start = block + n, end = block;
            for (int j = block; j < block + n; j++)
            {
                if (kPos[j] <= floor || kPos[j] > maxQuery) continue;
                start = Math.Min(start, j);
                end = j + 1;
            }
            return (start, end);
        }

        // scores[j] = q·k_j for `count` keys `stride` floats apart, -inf in lanes that cannot see k_j when keyPositions is
        // given; returns the lane-wise max. A pass runs over Chains keys; past the last key it repeats that key, so the
        // extra rows of scores (never read) leave the max alone.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Vector<float> Scores(float* keys, long stride, int count, float* queries, float* scores, int* keyPositions,
            Vector<int> positions, Vector<int> lowest)
        {
            int d = spec.HeadDim, w = Width, last = count - 1;
            var max = new Vector<float>(float.NegativeInfinity);
            for (int j = 0; j < count; j += Chains)
            {
                var (j0, j1, j2, j3) = (j, Math.Min(j + 1, last), Math.Min(j + 2, last), Math.Min(j + 3, last));
                var (j4, j5, j6, j7) = (Math.Min(j + 4, last), Math.Min(j + 5, last), Math.Min(j + 6, last), Math.Min(j + 7, last));
                float* k0 = keys + j0 * stride, k1 = keys + j1 * stride, k2 = keys + j2 * stride, k3 = keys + j3 * stride;
                float* k4 = keys + j4 * stride, k5 = keys + j5 * stride, k6 = keys + j6 * stride, k7 = keys + j7 * stride;
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                float* query = queries;
                for (int e = 0; e < d; e++, query += w)
                {
                    var rows = *(Vector<float>*)query;
                    (s0, s1) = (Vector.FusedMultiplyAdd(new Vector<float>(k0[e]), rows, s0), Vector.FusedMultiplyAdd(new Vector<float>(k1[e]), rows, s1));
                    (s2, s3) = (Vector.FusedMultiplyAdd(new Vector<float>(k2[e]), rows, s2), Vector.FusedMultiplyAdd(new Vector<float>(k3[e]), rows, s3));
                    (s4, s5) = (Vector.FusedMultiplyAdd(new Vector<float>(k4[e]), rows, s4), Vector.FusedMultiplyAdd(new Vector<float>(k5[e]), rows, s5));
                    (s6, s7) = (Vector.FusedMultiplyAdd(new Vector<float>(k6[e]), rows, s6), Vector.FusedMultiplyAdd(new Vector<float>(k7[e]), rows, s7));
                }
                if (keyPositions != null)
                {
                    (s0, s1) = (Mask(s0, keyPositions[j0], positions, lowest), Mask(s1, keyPositions[j1], positions, lowest));
                    (s2, s3) = (Mask(s2, keyPositions[j2], positions, lowest), Mask(s3, keyPositions[j3], positions, lowest));
                    (s4, s5) = (Mask(s4, keyPositions[j4], positions, lowest), Mask(s5, keyPositions[j5], positions, lowest));
                    (s6, s7) = (Mask(s6, keyPositions[j6], positions, lowest), Mask(s7, keyPositions[j7], positions, lowest));
                }
                float* s = scores + j * w;
                (*(Vector<float>*)s, *(Vector<float>*)(s + w), *(Vector<float>*)(s + 2 * w), *(Vector<float>*)(s + 3 * w)) = (s0, s1, s2, s3);
                (*(Vector<float>*)(s + 4 * w), *(Vector<float>*)(s + 5 * w), *(Vector<float>*)(s + 6 * w), *(Vector<float>*)(s + 7 * w)) = (s4, s5, s6, s7);
                max = Vector.MaxNative(max, Vector.MaxNative(Vector.MaxNative(Vector.MaxNative(s0, s1), Vector.MaxNative(s2, s3)),
                    Vector.MaxNative(Vector.MaxNative(s4, s5), Vector.MaxNative(s6, s7))));
            }
            return max;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<float> Mask(Vector<float> score, int keyPosition, Vector<int> positions, Vector<int> lowest) =>
            Vector.ConditionalSelect(Visible(keyPosition, positions, lowest), score, new Vector<float>(float.NegativeInfinity));

        // The lanes that see a key at keyPosition (all bits set) and those that do not (zero).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<int> Visible(int keyPosition, Vector<int> positions, Vector<int> lowest)
        {
            var key = new Vector<int>(keyPosition);
            return Vector.GreaterThan(key, lowest) & Vector.LessThanOrEqual(key, positions);
        }

        // In place: scores[j] become p_j = exp(scores[j] − shift); returns their lane-wise sum.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static Vector<float> Exponentiate(float* scores, int count, Vector<float> shift)
        {
            int w = Width;
            var sum = Vector<float>.Zero;
            for (int j = 0; j < count; j++)
            {
                var p = CpuExp.Exp(*(Vector<float>*)(scores + j * w) - shift);
                *(Vector<float>*)(scores + j * w) = p;
                sum += p;
            }
            return sum;
        }

        // accumulator[e] = correction · accumulator[e] + Σ_j p_j · v_j[e] over `count` values `stride` floats apart, for
        // Chains elements of the head dim a pass (the accumulators stay in registers while the values stream by), the
        // rest of a head dim that is not a multiple of Chains one at a time. Given key positions (a block not every lane
        // sees whole), a lane takes only the values of keys it sees: p = 0 there, but 0 · NaN would be NaN, and a value
        // no query may read (an empty slot of a ring that was never written, a padded row's slot) must change nothing.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void AccumulateValues(float* values, long stride, int count, float* p, Vector<float> correction, float* accumulator, int* keyPositions,
            Vector<int> positions, Vector<int> lowest)
        {
            int d = spec.HeadDim, w = Width, e = 0;
            for (; e + Chains <= d; e += Chains)
            {
                float* a = accumulator + e * w;
                var (a0, a1, a2, a3) = (*(Vector<float>*)a * correction, *(Vector<float>*)(a + w) * correction,
                    *(Vector<float>*)(a + 2 * w) * correction, *(Vector<float>*)(a + 3 * w) * correction);
                var (a4, a5, a6, a7) = (*(Vector<float>*)(a + 4 * w) * correction, *(Vector<float>*)(a + 5 * w) * correction,
                    *(Vector<float>*)(a + 6 * w) * correction, *(Vector<float>*)(a + 7 * w) * correction);
                float* value = values + e, probability = p;
                for (int j = 0; j < count; j++, value += stride, probability += w)
                {
                    var rows = *(Vector<float>*)probability;
                    var (b0, b1) = (Vector.FusedMultiplyAdd(new Vector<float>(value[0]), rows, a0), Vector.FusedMultiplyAdd(new Vector<float>(value[1]), rows, a1));
                    var (b2, b3) = (Vector.FusedMultiplyAdd(new Vector<float>(value[2]), rows, a2), Vector.FusedMultiplyAdd(new Vector<float>(value[3]), rows, a3));
                    var (b4, b5) = (Vector.FusedMultiplyAdd(new Vector<float>(value[4]), rows, a4), Vector.FusedMultiplyAdd(new Vector<float>(value[5]), rows, a5));
                    var (b6, b7) = (Vector.FusedMultiplyAdd(new Vector<float>(value[6]), rows, a6), Vector.FusedMultiplyAdd(new Vector<float>(value[7]), rows, a7));
                    if (keyPositions == null)
                    {
                        (a0, a1, a2, a3, a4, a5, a6, a7) = (b0, b1, b2, b3, b4, b5, b6, b7);
                        continue;
                    }
                    var keep = Vector.AsVectorSingle(Visible(keyPositions[j], positions, lowest));
                    (a0, a1) = (Vector.ConditionalSelect(keep, b0, a0), Vector.ConditionalSelect(keep, b1, a1));
                    (a2, a3) = (Vector.ConditionalSelect(keep, b2, a2), Vector.ConditionalSelect(keep, b3, a3));
                    (a4, a5) = (Vector.ConditionalSelect(keep, b4, a4), Vector.ConditionalSelect(keep, b5, a5));
                    (a6, a7) = (Vector.ConditionalSelect(keep, b6, a6), Vector.ConditionalSelect(keep, b7, a7));
                }
                (*(Vector<float>*)a, *(Vector<float>*)(a + w), *(Vector<float>*)(a + 2 * w), *(Vector<float>*)(a + 3 * w)) = (a0, a1, a2, a3);
                (*(Vector<float>*)(a + 4 * w), *(Vector<float>*)(a + 5 * w), *(Vector<float>*)(a + 6 * w), *(Vector<float>*)(a + 7 * w)) = (a4, a5, a6, a7);
            }
            for (; e < d; e++)
            {
                var a = *(Vector<float>*)(accumulator + e * w) * correction;
                for (int j = 0; j < count; j++)
                {
                    var sum = Vector.FusedMultiplyAdd(new Vector<float>(values[j * stride + e]), *(Vector<float>*)(p + j * w), a);
                    a = keyPositions == null ? sum : Vector.ConditionalSelect(Vector.AsVectorSingle(Visible(keyPositions[j], positions, lowest)), sum, a);
                }
                *(Vector<float>*)(accumulator + e * w) = a;
            }
        }

        // Each row's output is its accumulator over its sum, its log-sum-exp max + log(sum); a row that saw no key (a sum of
        // exactly 0: a seen key adds e^0 = 1) gets zeros and -inf, a NaN sum gives NaN. The division runs on whole vectors
        // of lanes, in place, before the lanes go to their rows.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Finish(float* accumulator, Vector<float> maximum, Vector<float> sum, float* output, float* logSumExp)
        {
            int d = spec.HeadDim, w = Width;
            for (int e = 0; e < d; e++) *(Vector<float>*)(accumulator + e * w) /= sum;
            for (int lane = 0; lane < Rows; lane++)
            {
                var (query, head) = RowOf(lane);
                float* row = output + Offset(query, head);
                if (sum[lane] != 0)
                    for (int e = 0; e < d; e++) row[e] = accumulator[e * w + lane];
                else
                    new Span<float>(row, d).Clear();
                if (logSumExp != null)
                    logSumExp[((long)b * spec.QueryHeads + head) * queryLength + query] =
                        sum[lane] != 0 ? maximum[lane] + MathF.Log(sum[lane]) : float.NegativeInfinity;
            }
        }
    }
}
