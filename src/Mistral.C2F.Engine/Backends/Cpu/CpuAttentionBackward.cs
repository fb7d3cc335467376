using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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
/// pairs than <see cref="Items"/>, keys are dealt to stripes block by block (interleaved, so a causal mask gives each
/// stripe a similar share); stripe 0 writes dq directly, every other stripe into its own zeroed buffer,
/// and the buffers are added afterwards in stripe order, so the result depends neither on scheduling nor, as the
/// stripes do not depend on the threads, on the thread count.
/// </para>
/// <para>
/// Query rows go through a key block in tiles of <see cref="TileRows"/>: one load and store of a key's dk
/// and dv serves the whole tile, and the tile's dq stays in registers while the block's keys stream by.
/// </para>
/// <para>
/// The fast loops let a hidden (row, key) pair add p = ds = 0 times its data, which is exact only for finite data:
/// a tile or block holding a NaN or infinity goes through a loop that visits only the pairs that see each other.
/// </para>
/// </summary>
internal static unsafe class CpuAttentionBackward
{
    private const int KeyBlock = 64; // a multiple of two of every Vector<float> width: the score loop takes two key vectors at a time
    private const int TileRows = 4; // the tile kernels below are written out for four rows
    // Work items aimed at, whatever the threads: the stripes are dq's summation order (16 keeps 8 threads busy twice over).
    private const int Items = 16;

    public static void Backward(float* q, float* k, float* v, int* queryPositions, int* keyPositions, AttentionSpec spec,
        int batch, int queryLength, int keyLength, float* output, float* logSumExp, float* outputGrad,
        float* queryGrad, float* keyGrad, float* valueGrad, CpuParallel parallel)
    {
        int pairs = batch * spec.KvHeads, keyBlocks = (keyLength + KeyBlock - 1) / KeyBlock;
        int stripes = Math.Clamp((Items + pairs - 1) / pairs, 1, Math.Max(1, keyBlocks));
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

    private static int Width => Vector<float>.Count;

    // destination[0..count) += source[0..count): rows of a head dim are too short to pay for a TensorPrimitives call each.
    private static void AddTo(float* destination, float* source, int count)
    {
        int i = 0;
        for (; i + Width <= count; i += Width) *(Vector<float>*)(destination + i) += *(Vector<float>*)(source + i);
        for (; i < count; i++) destination[i] += source[i];
    }

    /// <summary>
    /// Aligned scratch of one work item: the packed key block with its dk/dv accumulators, and a tile of
    /// query rows. Rows are padded with zeros to whole pairs of vectors, so no loop over the head dim needs a
    /// remainder; the padding is never written, so it stays zero.
    /// </summary>
    private sealed class Scratch : IDisposable
    {
        private readonly float* _memory;

        public Scratch(int headDim, int padded)
        {
            int packed = headDim * KeyBlock, keyRows = KeyBlock * padded, tileRows = TileRows * padded, tileKeys = TileRows * KeyBlock;
            nuint bytes = (nuint)((2 * packed + 3 * keyRows + 2 * KeyBlock + 3 * tileRows + 3 * tileKeys) * sizeof(float));
            _memory = (float*)NativeMemory.AlignedAlloc(bytes, 64);
            NativeMemory.Clear(_memory, bytes);
            float* next = _memory;
            float* Take(int size) { float* taken = next; next += size; return taken; }
            KeysTransposed = Take(packed);
            ValuesTransposed = Take(packed);
            KeyRows = Take(keyRows);
            KeyGrads = Take(keyRows);
            ValueGrads = Take(keyRows);
            FilledSlots = Take(KeyBlock);
            Mask = Take(KeyBlock);
            Queries = Take(tileRows);
            OutputGrads = Take(tileRows);
            QueryGrads = Take(tileRows);
            Probabilities = Take(tileKeys);
            ScoreGrads = Take(tileKeys);
            Masks = Take(tileKeys);
        }

        // The key block: keys and values transposed [headDim × KeyBlock] (for dot products vectorised over keys), key rows
        // [KeyBlock × padded] (for dq, vectorised over the head dim), dk/dv accumulators [KeyBlock × padded], and two masks
        // (0 where visible, -inf where not): FilledSlots, the mask of any query that sees every filled slot of the block, and
        // Mask, written for a query that sees only some.
        public float* KeysTransposed { get; }
        public float* ValuesTransposed { get; }
        public float* KeyRows { get; }
        public float* KeyGrads { get; }
        public float* ValueGrads { get; }
        public float* FilledSlots { get; }
        public float* Mask { get; }

        // The tile: q, dO and dq rows [TileRows × padded]; p and scale·ds [TileRows × KeyBlock]; room for the rows' own masks
        // [TileRows × KeyBlock] when they see only part of the block; and each row's constants.
        public float* Queries { get; }
        public float* OutputGrads { get; }
        public float* Probabilities { get; }
        public float* ScoreGrads { get; }
        public float* QueryGrads { get; }
        public float* Masks { get; }
        public TileRow[] Rows { get; } = new TileRow[TileRows];

        public void Dispose() => NativeMemory.AlignedFree(_memory);
    }

    /// <summary>A query row in the tile: where its dq goes, its log-sum-exp, its Δ = dO·O, its mask over the key block, and whether its q and dO are finite.</summary>
    private struct TileRow
    {
        public long Offset;
        public float Lse, Delta;
        public float* Mask;
        public bool Finite;
    }

    private readonly struct KeyStripe(AttentionSpec spec, int b, int kvHead, int stripe, int stripes, int queryLength, int keyLength)
    {
        private int Padded => (spec.HeadDim + 2 * Width - 1) / (2 * Width) * (2 * Width);

        public void Run(float* q, float* k, float* v, int* queryPositions, int* keyPositions, float* output, float* logSumExp,
            float* outputGrad, float* queryGrad, float* keyGrad, float* valueGrad)
        {
            int d = spec.HeadDim, group = spec.GroupSize, padded = Padded;
            int* qPos = queryPositions + (long)b * queryLength;
            int* kPos = keyPositions + (long)b * keyLength;
            var (rowLse, rowDelta) = RowConstants(logSumExp, output, outputGrad);
            var (minQuery, maxQuery) = CpuAttentionBlocks.Range(qPos, queryLength);
            float scale = (float)spec.Scale;
            using var scratch = new Scratch(d, padded);

            for (int block = stripe * KeyBlock; block < keyLength; block += stripes * KeyBlock)
            {
                int n = Math.Min(KeyBlock, keyLength - block);
                var (minKey, maxKey, _) = CpuAttentionBlocks.KeySlots(kPos + block, n);
                if (minKey > maxKey || !spec.MaySee(minQuery, maxQuery, minKey, maxKey)) continue;
                bool blockFinite = PackBlock(k, v, kPos + block, block, n, scratch);
                int rows = 0;
                for (int i = 0; i < queryLength; i++)
                {
                    float* mask = Mask(qPos[i], kPos + block, n, minKey, maxKey, scratch);
                    if (mask == null) continue;
                    for (int h = 0; h < group; h++)
                    {
                        int row = i * group + h;
                        if (float.IsNegativeInfinity(rowLse[row])) continue;
                        long offset = (((long)b * queryLength + i) * spec.QueryHeads + kvHead * group + h) * d;
                        new Span<float>(q + offset, d).CopyTo(new Span<float>(scratch.Queries + rows * padded, d));
                        new Span<float>(outputGrad + offset, d).CopyTo(new Span<float>(scratch.OutputGrads + rows * padded, d));
                        float* rowMask = mask;
                        if (mask == scratch.Mask)
                            new Span<float>(mask, KeyBlock).CopyTo(new Span<float>(rowMask = scratch.Masks + rows * KeyBlock, KeyBlock));
                        bool finite = TensorPrimitives.IsFiniteAll(new ReadOnlySpan<float>(q + offset, d)) &&
                            TensorPrimitives.IsFiniteAll(new ReadOnlySpan<float>(outputGrad + offset, d));
                        scratch.Rows[rows++] = new TileRow { Offset = offset, Lse = rowLse[row], Delta = rowDelta[row], Mask = rowMask, Finite = finite };
                        if (rows < TileRows) continue;
                        ProcessTile(scratch, rows, n, scale, queryGrad, blockFinite);
                        rows = 0;
                    }
                }
                if (rows > 0) ProcessTile(scratch, rows, n, scale, queryGrad, blockFinite);
                FlushBlock(scratch.KeyGrads, keyGrad, block, n);
                FlushBlock(scratch.ValueGrads, valueGrad, block, n);
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

        // The query's mask over the block (0 for a visible key, -inf for a hidden key or a slot past the block's end), or
        // null when it sees none. A query that sees every filled slot, as most do under a causal mask, shares FilledSlots;
        // a query's visible keys form one interval of positions, so seeing the lowest and the highest filled slot is enough.
        private float* Mask(int queryPosition, int* keyPositions, int n, int minKey, int maxKey, Scratch scratch)
        {
            if (!spec.MaySee(queryPosition, queryPosition, minKey, maxKey)) return null;
            if (spec.SeesAll(queryPosition, queryPosition, minKey, maxKey)) return scratch.FilledSlots;
            bool any = false;
            for (int j = 0; j < KeyBlock; j++)
            {
                bool seen = j < n && spec.IsVisible(queryPosition, keyPositions[j]);
                scratch.Mask[j] = seen ? 0 : float.NegativeInfinity;
                any |= seen;
            }
            return any ? scratch.Mask : null;
        }

        // Packs keys and values of the block (slots past its end stay zero), marks its filled slots, clears its dk/dv accumulators;
        // returns whether every key and value of the block is finite.
        private bool PackBlock(float* k, float* v, int* keyPositions, int block, int n, Scratch scratch)
        {
            int d = spec.HeadDim, padded = Padded;
            new Span<float>(scratch.KeysTransposed, d * KeyBlock).Clear();
            new Span<float>(scratch.ValuesTransposed, d * KeyBlock).Clear();
            new Span<float>(scratch.KeyRows, KeyBlock * padded).Clear();
            new Span<float>(scratch.KeyGrads, KeyBlock * padded).Clear();
            new Span<float>(scratch.ValueGrads, KeyBlock * padded).Clear();
            new Span<float>(scratch.FilledSlots, KeyBlock).Fill(float.NegativeInfinity);
            bool finite = true;
            for (int j = 0; j < n; j++)
            {
                long offset = (((long)b * keyLength + block + j) * spec.KvHeads + kvHead) * d;
                float* key = k + offset, value = v + offset;
                scratch.FilledSlots[j] = keyPositions[j] >= 0 ? 0 : float.NegativeInfinity;
                finite &= TensorPrimitives.IsFiniteAll(new ReadOnlySpan<float>(key, d)) && TensorPrimitives.IsFiniteAll(new ReadOnlySpan<float>(value, d));
                for (int e = 0; e < d; e++)
                {
                    scratch.KeysTransposed[e * KeyBlock + j] = key[e];
                    scratch.ValuesTransposed[e * KeyBlock + j] = value[e];
                    scratch.KeyRows[j * padded + e] = key[e];
                }
            }
            return finite;
        }

        // For the tile's four rows at once, s = q·Kᵀ into Probabilities and dp = dO·Vᵀ into ScoreGrads, over the block's keys
        // two vectors at a time: each load of the packed keys and values serves four rows (sixteen independent FMA chains).
        private void TileScoresAndValueDots(Scratch scratch)
        {
            int w = Width, padded = Padded;
            for (int j = 0; j < KeyBlock; j += 2 * w)
            {
                Vector<float> s0 = default, t0 = default, s1 = default, t1 = default, s2 = default, t2 = default, s3 = default, t3 = default;
                Vector<float> p0 = default, u0 = default, p1 = default, u1 = default, p2 = default, u2 = default, p3 = default, u3 = default;
                float* kt = scratch.KeysTransposed + j, vt = scratch.ValuesTransposed + j, qr = scratch.Queries, o = scratch.OutputGrads;
                for (int e = 0; e < spec.HeadDim; e++, kt += KeyBlock, vt += KeyBlock)
                {
                    var (keyLower, keyUpper) = (*(Vector<float>*)kt, *(Vector<float>*)(kt + w));
                    var (valueLower, valueUpper) = (*(Vector<float>*)vt, *(Vector<float>*)(vt + w));
                    var query = new Vector<float>(qr[e]);
                    (s0, t0) = (Vector.FusedMultiplyAdd(query, keyLower, s0), Vector.FusedMultiplyAdd(query, keyUpper, t0));
                    query = new Vector<float>(qr[padded + e]);
                    (s1, t1) = (Vector.FusedMultiplyAdd(query, keyLower, s1), Vector.FusedMultiplyAdd(query, keyUpper, t1));
                    query = new Vector<float>(qr[2 * padded + e]);
                    (s2, t2) = (Vector.FusedMultiplyAdd(query, keyLower, s2), Vector.FusedMultiplyAdd(query, keyUpper, t2));
                    query = new Vector<float>(qr[3 * padded + e]);
                    (s3, t3) = (Vector.FusedMultiplyAdd(query, keyLower, s3), Vector.FusedMultiplyAdd(query, keyUpper, t3));
                    var grad = new Vector<float>(o[e]);
                    (p0, u0) = (Vector.FusedMultiplyAdd(grad, valueLower, p0), Vector.FusedMultiplyAdd(grad, valueUpper, u0));
                    grad = new Vector<float>(o[padded + e]);
                    (p1, u1) = (Vector.FusedMultiplyAdd(grad, valueLower, p1), Vector.FusedMultiplyAdd(grad, valueUpper, u1));
                    grad = new Vector<float>(o[2 * padded + e]);
                    (p2, u2) = (Vector.FusedMultiplyAdd(grad, valueLower, p2), Vector.FusedMultiplyAdd(grad, valueUpper, u2));
                    grad = new Vector<float>(o[3 * padded + e]);
                    (p3, u3) = (Vector.FusedMultiplyAdd(grad, valueLower, p3), Vector.FusedMultiplyAdd(grad, valueUpper, u3));
                }
                float* scores = scratch.Probabilities + j, dots = scratch.ScoreGrads + j;
                (*(Vector<float>*)scores, *(Vector<float>*)(scores + w)) = (s0, t0);
                (*(Vector<float>*)(scores + KeyBlock), *(Vector<float>*)(scores + KeyBlock + w)) = (s1, t1);
                (*(Vector<float>*)(scores + 2 * KeyBlock), *(Vector<float>*)(scores + 2 * KeyBlock + w)) = (s2, t2);
                (*(Vector<float>*)(scores + 3 * KeyBlock), *(Vector<float>*)(scores + 3 * KeyBlock + w)) = (s3, t3);
                (*(Vector<float>*)dots, *(Vector<float>*)(dots + w)) = (p0, u0);
                (*(Vector<float>*)(dots + KeyBlock), *(Vector<float>*)(dots + KeyBlock + w)) = (p1, u1);
                (*(Vector<float>*)(dots + 2 * KeyBlock), *(Vector<float>*)(dots + 2 * KeyBlock + w)) = (p2, u2);
                (*(Vector<float>*)(dots + 3 * KeyBlock), *(Vector<float>*)(dots + 3 * KeyBlock + w)) = (p3, u3);
            }
        }

        // In place: scores become p = exp(scale·s − lse), value dots become scale·ds = scale·p·(dp − Δ); both exactly 0 where
        // masked, even when the hidden key's score or value dot is NaN.
        private static void ProbabilitiesAndScoreGrads(float* p, float* ds, float* bias, float scale, float lse, float delta)
        {
            var (scaleVector, lseVector, deltaVector) = (new Vector<float>(scale), new Vector<float>(lse), new Vector<float>(delta));
            for (int j = 0; j < KeyBlock; j += Width)
            {
                var visible = Vector.Equals(*(Vector<float>*)(bias + j), Vector<float>.Zero);
                var probability = CpuExp.Exp(Vector.FusedMultiplyAdd(*(Vector<float>*)(p + j), scaleVector, *(Vector<float>*)(bias + j) - lseVector));
                *(Vector<float>*)(p + j) = Vector.ConditionalSelect(visible, probability, Vector<float>.Zero);
                *(Vector<float>*)(ds + j) = Vector.ConditionalSelect(visible, probability * (*(Vector<float>*)(ds + j) - deltaVector) * scaleVector, Vector<float>.Zero);
            }
        }

        // Recomputes p and ds for the tile's rows and adds their contributions: dv_j += Σ_r p_rj·dO_r and dk_j += Σ_r ds_rj·q_r
        // into the block accumulators, dq_r += Σ_j ds_rj·k_j into each row's dq. Rows past `rows` get p = ds = 0 and zero
        // data, so they add nothing.
        private void ProcessTile(Scratch scratch, int rows, int n, float scale, float* queryGrad, bool blockFinite)
        {
            int d = spec.HeadDim, padded = Padded;
            new Span<float>(scratch.Queries + rows * padded, (TileRows - rows) * padded).Clear();
            new Span<float>(scratch.OutputGrads + rows * padded, (TileRows - rows) * padded).Clear();
            TileScoresAndValueDots(scratch);
            bool finite = blockFinite;
            for (int r = 0; r < rows; r++)
            {
                ProbabilitiesAndScoreGrads(scratch.Probabilities + r * KeyBlock, scratch.ScoreGrads + r * KeyBlock, scratch.Rows[r].Mask, scale,
                    scratch.Rows[r].Lse, scratch.Rows[r].Delta);
                finite &= scratch.Rows[r].Finite;
            }
            new Span<float>(scratch.Probabilities + rows * KeyBlock, (TileRows - rows) * KeyBlock).Clear();
            new Span<float>(scratch.ScoreGrads + rows * KeyBlock, (TileRows - rows) * KeyBlock).Clear();
            if (finite)
            {
                AccumulateKeyGrads(scratch, n);
                AccumulateQueryGrads(scratch, n);
            }
            else AccumulateSeenPairsOnly(scratch, rows, n);
            for (int r = 0; r < rows; r++) AddTo(queryGrad + scratch.Rows[r].Offset, scratch.QueryGrads + r * padded, d);
        }

        // The three accumulations over the (row, key) pairs that see each other only, for tiles or blocks holding a NaN or an
        // infinity: the fast loops would add 0 · NaN = NaN from a hidden pair. Slower, and taken only then.
        private void AccumulateSeenPairsOnly(Scratch scratch, int rows, int n)
        {
            int w = Width, padded = Padded;
            new Span<float>(scratch.QueryGrads, TileRows * padded).Clear();
            for (int r = 0; r < rows; r++)
            {
                float* mask = scratch.Rows[r].Mask, query = scratch.Queries + r * padded, outputGrad = scratch.OutputGrads + r * padded;
                float* queryGrad = scratch.QueryGrads + r * padded;
                for (int j = 0; j < n; j++)
                {
                    if (mask[j] != 0) continue;
                    var p = new Vector<float>(scratch.Probabilities[r * KeyBlock + j]);
                    var ds = new Vector<float>(scratch.ScoreGrads[r * KeyBlock + j]);
                    float* dk = scratch.KeyGrads + j * padded, dv = scratch.ValueGrads + j * padded, key = scratch.KeyRows + j * padded;
                    for (int c = 0; c < padded; c += w)
                    {
                        *(Vector<float>*)(dv + c) = Vector.FusedMultiplyAdd(p, *(Vector<float>*)(outputGrad + c), *(Vector<float>*)(dv + c));
                        *(Vector<float>*)(dk + c) = Vector.FusedMultiplyAdd(ds, *(Vector<float>*)(query + c), *(Vector<float>*)(dk + c));
                        *(Vector<float>*)(queryGrad + c) = Vector.FusedMultiplyAdd(ds, *(Vector<float>*)(key + c), *(Vector<float>*)(queryGrad + c));
                    }
                }
            }
        }

        private void AccumulateKeyGrads(Scratch scratch, int n)
        {
            int w = Width, padded = Padded;
            float* p = scratch.Probabilities, ds = scratch.ScoreGrads, queries = scratch.Queries, outputGrads = scratch.OutputGrads;
            for (int j = 0; j < n; j++)
            {
                if (p[j] == 0 && p[KeyBlock + j] == 0 && p[2 * KeyBlock + j] == 0 && p[3 * KeyBlock + j] == 0) continue;
                var (p0, p1, p2, p3) = (new Vector<float>(p[j]), new Vector<float>(p[KeyBlock + j]),
                    new Vector<float>(p[2 * KeyBlock + j]), new Vector<float>(p[3 * KeyBlock + j]));
                var (ds0, ds1, ds2, ds3) = (new Vector<float>(ds[j]), new Vector<float>(ds[KeyBlock + j]),
                    new Vector<float>(ds[2 * KeyBlock + j]), new Vector<float>(ds[3 * KeyBlock + j]));
                float* dk = scratch.KeyGrads + j * padded, dv = scratch.ValueGrads + j * padded;
                for (int c = 0; c < padded; c += w)
                {
                    float* o = outputGrads + c, qr = queries + c;
                    var value = *(Vector<float>*)(dv + c);
                    value = Vector.FusedMultiplyAdd(p0, *(Vector<float>*)o, value);
                    value = Vector.FusedMultiplyAdd(p1, *(Vector<float>*)(o + padded), value);
                    value = Vector.FusedMultiplyAdd(p2, *(Vector<float>*)(o + 2 * padded), value);
                    *(Vector<float>*)(dv + c) = Vector.FusedMultiplyAdd(p3, *(Vector<float>*)(o + 3 * padded), value);
                    var key = *(Vector<float>*)(dk + c);
                    key = Vector.FusedMultiplyAdd(ds0, *(Vector<float>*)qr, key);
                    key = Vector.FusedMultiplyAdd(ds1, *(Vector<float>*)(qr + padded), key);
                    key = Vector.FusedMultiplyAdd(ds2, *(Vector<float>*)(qr + 2 * padded), key);
                    *(Vector<float>*)(dk + c) = Vector.FusedMultiplyAdd(ds3, *(Vector<float>*)(qr + 3 * padded), key);
                }
            }
        }

        // The tile's dq over two head-dim vectors at a time: eight accumulators in registers while the block's keys stream by.
        private void AccumulateQueryGrads(Scratch scratch, int n)
        {
            int w = Width, padded = Padded;
            float* ds = scratch.ScoreGrads;
            for (int c = 0; c < padded; c += 2 * w)
            {
                Vector<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
                float* key = scratch.KeyRows + c;
                for (int j = 0; j < n; j++, key += padded)
                {
                    var (lower, upper) = (*(Vector<float>*)key, *(Vector<float>*)(key + w));
                    var (ds0, ds1, ds2, ds3) = (new Vector<float>(ds[j]), new Vector<float>(ds[KeyBlock + j]),
                        new Vector<float>(ds[2 * KeyBlock + j]), new Vector<float>(ds[3 * KeyBlock + j]));
                    (a0, b0) = (Vector.FusedMultiplyAdd(ds0, lower, a0), Vector.FusedMultiplyAdd(ds0, upper, b0));
                    (a1, b1) = (Vector.FusedMultiplyAdd(ds1, lower, a1), Vector.FusedMultiplyAdd(ds1, upper, b1));
                    (a2, b2) = (Vector.FusedMultiplyAdd(ds2, lower, a2), Vector.FusedMultiplyAdd(ds2, upper, b2));
                    (a3, b3) = (Vector.FusedMultiplyAdd(ds3, lower, a3), Vector.FusedMultiplyAdd(ds3, upper, b3));
                }
                float* dq = scratch.QueryGrads + c;
                (*(Vector<float>*)dq, *(Vector<float>*)(dq + w)) = (a0, b0);
                (*(Vector<float>*)(dq + padded), *(Vector<float>*)(dq + padded + w)) = (a1, b1);
                (*(Vector<float>*)(dq + 2 * padded), *(Vector<float>*)(dq + 2 * padded + w)) = (a2, b2);
                (*(Vector<float>*)(dq + 3 * padded), *(Vector<float>*)(dq + 3 * padded + w)) = (a3, b3);
            }
        }

        private void FlushBlock(float* gradBlock, float* grad, int block, int n)
        {
            int d = spec.HeadDim;
            for (int j = 0; j < n; j++) AddTo(grad + (((long)b * keyLength + block + j) * spec.KvHeads + kvHead) * d, gradBlock + j * Padded, d);
        }
    }
}
