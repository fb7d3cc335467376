using ILGPU;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// The layout and mask shared by the attention kernels. Work is tiled over "rows": for one (batch, kv head)
/// pair, row = query·G + g is query <c>query</c> of query head kvHead·G + g (G = query heads per kv head),
/// so one tile of rows holds every head of a GQA group and each key block is staged once for all of them.
/// q, output [B, Sq, Hq·D]; k, v [B, Sk, Hkv·D]; log-sum-exp and row statistics [B, Hq, Sq].
/// </summary>
internal readonly record struct AttentionGeometry(int Batch, int QueryLength, int KeyLength, int QueryHeads, int KvHeads, int HeadDim,
    int Window, float Scale)
{
    public static AttentionGeometry From(AttentionSpec spec, int batch, int queryLength, int keyLength) =>
        new(batch, queryLength, keyLength, spec.QueryHeads, spec.KvHeads, spec.HeadDim, spec.SlidingWindow ?? 0, (float)spec.Scale);

    public int HeadsPerKv => QueryHeads / KvHeads;
    public int RowsPerPair => QueryLength * HeadsPerKv;
    public int Pairs => Batch * KvHeads;

    /// <summary>The scale in the exp2 domain: p = 2^(q·k·ScaleLog2 − lse·log2 e).</summary>
    public float ScaleLog2 => Scale * DeviceMath.Log2E;

    public int QueryOfRow(int row) => row / HeadsPerKv;
    public int HeadOfRow(int kvHead, int row) => kvHead * HeadsPerKv + row % HeadsPerKv;
    public long QueryOffset(int b, int query, int head) => (((long)b * QueryLength + query) * QueryHeads + head) * HeadDim;
    public long KeyOffset(int b, int key, int kvHead) => (((long)b * KeyLength + key) * KvHeads + kvHead) * HeadDim;
    public long StatsIndex(int b, int head, int query) => ((long)b * QueryHeads + head) * QueryLength + query;

    /// <summary>Stages rows firstRow..firstRow+count−1 of q-shaped <paramref name="source"/> into a shared tile; rows past the end are zeros.</summary>
    public void StageRows(ArrayView<float> source, ArrayView<float> tile, int stride, int b, int kvHead, int firstRow, int count)
    {
        for (int e = Group.IdxX; e < count * HeadDim; e += Group.DimX)
        {
            int tileRow = e / HeadDim, dim = e % HeadDim, row = firstRow + tileRow;
            tile[tileRow * stride + dim] = row < RowsPerPair ? source[QueryOffset(b, QueryOfRow(row), HeadOfRow(kvHead, row)) + dim] : 0f;
        }
    }

    /// <summary>Stages keys and values firstKey..firstKey+count−1 of (b, kvHead) into shared tiles; keys past the end are zeros.</summary>
    public void StageKeys(AttentionInputs inputs, ArrayView<float> kTile, int kStride, ArrayView<float> vTile, int vStride, int b, int kvHead,
        int firstKey, int count)
    {
        for (int e = Group.IdxX; e < count * HeadDim; e += Group.DimX)
        {
            int j = e / HeadDim, dim = e % HeadDim, key = firstKey + j;
            bool inside = key < KeyLength;
            long source = inside ? KeyOffset(b, key, kvHead) + dim : 0;
            kTile[j * kStride + dim] = inside ? inputs.K[source] : 0f;
            vTile[j * vStride + dim] = inside ? inputs.V[source] : 0f;
        }
    }

    /// <summary>
    /// Bit j set: key firstKey + j (j &lt; count ≤ 32) exists and a query at queryPosition sees it. Where p or ds is 0 at a
    /// hidden key, the kernels select on these bits instead of adding 0·x: 0·NaN is NaN, and a key the query cannot see
    /// (outside the window, an empty slot) must change nothing.
    /// </summary>
    public int VisibleKeys(ArrayView<int> keyPositions, int b, int queryPosition, int firstKey, int count)
    {
        int visible = 0;
        for (int j = 0; j < count; j++)
        {
            int key = firstKey + j;
            if (key < KeyLength && IsVisible(queryPosition, keyPositions[b * KeyLength + key], Window)) visible |= 1 << j;
        }
        return visible;
    }

    /// <summary>Bit i set: row firstRow + i (i &lt; count ≤ 32) exists and sees a key at keyPosition; see <see cref="VisibleKeys"/>.</summary>
    public int SeeingRows(ArrayView<int> queryPositions, int b, int keyPosition, int firstRow, int count)
    {
        int seeing = 0;
        for (int i = 0; i < count; i++)
        {
            int row = firstRow + i;
            if (row < RowsPerPair && IsVisible(queryPositions[b * QueryLength + QueryOfRow(row)], keyPosition, Window)) seeing |= 1 << i;
        }
        return seeing;
    }

    /// <summary>Whether bit <paramref name="bit"/> of a <see cref="VisibleKeys"/> or <see cref="SeeingRows"/> mask is set.</summary>
    public static bool Sees(int mask, int bit) => (mask & (1 << bit)) != 0;

    /// <summary>
    /// <see cref="AttentionSpec.IsVisible"/> for kernels (which cannot call into the record):
    /// 0 ≤ kp ≤ qp and, with a window W &gt; 0, qp − W &lt; kp. A test pins the two together.
    /// </summary>
    public static bool IsVisible(int queryPosition, int keyPosition, int window) =>
        keyPosition >= 0 && keyPosition <= queryPosition && (window == 0 || queryPosition - window < keyPosition);
}
