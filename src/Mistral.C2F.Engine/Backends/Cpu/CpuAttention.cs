using System.Numerics;
using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// Flash-style attention on the CPU: a work item is (batch, kv head, query tile) and holds the rows of
/// every query head that shares the kv head, so each key block is packed once for the whole GQA group.
/// Key blocks are streamed with an online softmax; blocks that no query of the tile can see are skipped.
/// </summary>
internal static unsafe class CpuAttention
{
    private const int QueryTile = 16;
    private const int KeyBlock = 64; // a multiple of every Vector<float>.Count

    public static void Forward(float* q, float* k, float* v, int* queryPositions, int* keyPositions, AttentionSpec spec,
        int batch, int queryLength, int keyLength, float* output, float* logSumExp, CpuParallel parallel)
    {
        int tiles = (queryLength + QueryTile - 1) / QueryTile;
        parallel.ForEach(batch * spec.KvHeads * tiles, item =>
        {
            int tile = item % tiles, kvHead = item / tiles % spec.KvHeads, b = item / tiles / spec.KvHeads;
            var job = new Tile(spec, b, kvHead, tile * QueryTile, Math.Min(QueryTile, queryLength - tile * QueryTile), queryLength, keyLength);
            job.Run(q, k, v, queryPositions, keyPositions, output, logSumExp);
        });
    }

    private readonly struct Tile(AttentionSpec spec, int b, int kvHead, int firstQuery, int queries, int queryLength, int keyLength)
    {
        private int Rows => queries * spec.GroupSize; // row r = (query r / group, head r % group)

        public void Run(float* q, float* k, float* v, int* queryPositions, int* keyPositions, float* output, float* logSumExp)
        {
            int d = spec.HeadDim, rows = Rows;
            var keysTransposed = new float[d * KeyBlock];
            var scores = new float[KeyBlock];
            var rowMax = new float[rows];
            var rowSum = new float[rows];
            var accumulator = new float[rows * d];
            Array.Fill(rowMax, float.NegativeInfinity);

            int* qPos = queryPositions + (long)b * queryLength + firstQuery;
            int* kPos = keyPositions + (long)b * keyLength;
            var (minQuery, maxQuery) = Range(qPos, queries);
            float scale = (float)spec.Scale;

            for (int block = 0; block < keyLength; block += KeyBlock)
            {
                int n = Math.Min(KeyBlock, keyLength - block);
                if (!AnyVisible(kPos + block, n, minQuery, maxQuery)) continue;
                PackKeysTransposed(k, block, n, keysTransposed);
                fixed (float* kt = keysTransposed, s = scores, acc = accumulator)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        int query = r / spec.GroupSize, head = kvHead * spec.GroupSize + r % spec.GroupSize;
                        float* qRow = q + (((long)b * queryLength + firstQuery + query) * spec.QueryHeads + head) * d;
                        Scores(qRow, kt, s, scale);
                        int visible = Mask(s, n, qPos[query], kPos + block);
                        if (visible == 0) continue;
                        float blockMax = TensorPrimitives.Max(new ReadOnlySpan<float>(s, KeyBlock));
                        float newMax = Math.Max(rowMax[r], blockMax);
                        float correction = MathF.Exp(rowMax[r] - newMax);
                        var p = new Span<float>(s, KeyBlock);
                        TensorPrimitives.Subtract(p, newMax, p);
                        TensorPrimitives.Exp(p, p);
                        rowSum[r] = rowSum[r] * correction + TensorPrimitives.Sum(p);
                        rowMax[r] = newMax;
                        AccumulateValues(v, block, n, s, correction, acc + r * d);
                    }
                }
            }
            Finish(accumulator, rowMax, rowSum, output, logSumExp);
        }

        private (int Min, int Max) Range(int* positions, int count)
        {
            int min = int.MaxValue, max = int.MinValue;
            for (int i = 0; i < count; i++) (min, max) = (Math.Min(min, positions[i]), Math.Max(max, positions[i]));
            return (min, max);
        }

        private bool AnyVisible(int* keyPositions, int n, int minQuery, int maxQuery)
        {
            int lowestVisible = spec.SlidingWindow is int w ? minQuery - w + 1 : 0;
            for (int j = 0; j < n; j++)
                if (keyPositions[j] >= Math.Max(0, lowestVisible) && keyPositions[j] <= maxQuery) return true;
            return false;
        }

        private void PackKeysTransposed(float* k, int block, int n, float[] keysTransposed)
        {
            int d = spec.HeadDim;
            Array.Clear(keysTransposed);
            for (int j = 0; j < n; j++)
            {
                float* key = k + (((long)b * keyLength + block + j) * spec.KvHeads + kvHead) * d;
                for (int e = 0; e < d; e++) keysTransposed[e * KeyBlock + j] = key[e];
            }
        }

        // s[0..KeyBlock) = scale · q·Kᵀ, vectorised over keys so no horizontal sums are needed.
        private void Scores(float* query, float* keysTransposed, float* s, float scale)
        {
            int width = Vector<float>.Count;
            for (int j = 0; j < KeyBlock; j += width)
            {
                var sum = Vector<float>.Zero;
                for (int e = 0; e < spec.HeadDim; e++)
                    sum = Vector.FusedMultiplyAdd(new Vector<float>(query[e]), *(Vector<float>*)(keysTransposed + e * KeyBlock + j), sum);
                *(Vector<float>*)(s + j) = sum * scale;
            }
        }

        private int Mask(float* s, int n, int queryPosition, int* keyPositions)
        {
            int visible = 0;
            for (int j = 0; j < KeyBlock; j++)
            {
                if (j < n && spec.IsVisible(queryPosition, keyPositions[j])) visible++;
                else s[j] = float.NegativeInfinity;
            }
            return visible;
        }

        private void AccumulateValues(float* v, int block, int n, float* p, float correction, float* acc)
        {
            int d = spec.HeadDim;
            var row = new Span<float>(acc, d);
            TensorPrimitives.Multiply(row, correction, row);
            for (int j = 0; j < n; j++)
            {
                if (p[j] == 0) continue;
                float* value = v + (((long)b * keyLength + block + j) * spec.KvHeads + kvHead) * d;
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(value, d), p[j], row, row);
            }
        }

        private void Finish(float[] accumulator, float[] rowMax, float[] rowSum, float* output, float* logSumExp)
        {
            int d = spec.HeadDim;
            for (int r = 0; r < Rows; r++)
            {
                int query = firstQuery + r / spec.GroupSize, head = kvHead * spec.GroupSize + r % spec.GroupSize;
                var o = new Span<float>(output + (((long)b * queryLength + query) * spec.QueryHeads + head) * d, d);
                var acc = new ReadOnlySpan<float>(accumulator, r * d, d);
                if (rowSum[r] > 0) TensorPrimitives.Divide(acc, rowSum[r], o);
                else o.Clear();
                if (logSumExp != null)
                    logSumExp[((long)b * spec.QueryHeads + head) * queryLength + query] =
                        rowSum[r] > 0 ? rowMax[r] + MathF.Log(rowSum[r]) : float.NegativeInfinity;
            }
        }
    }
}
