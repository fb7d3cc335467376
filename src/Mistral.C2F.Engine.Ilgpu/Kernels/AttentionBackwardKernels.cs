using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Attention backward from the saved log-sum-exp (p = 2^(s·scale·log2 e − lse·log2 e), no S×S storage), in
/// three race-free kernels with no atomics, so results do not depend on scheduling:
/// <list type="number">
/// <item>δ = Σ dO·O per row (one warp per row), into scratch: softmax's backward needs dp − δ.</item>
/// <item>dQ: like the forward, a group owns 16 rows and streams key blocks of 16; each thread computes 2
/// scores and 2 dO·V products of its row, ds = p·(dp − δ)·scale goes to shared memory, and the row's 8
/// lanes accumulate dq += ds·K over their dimensions. Each row's dq is written by its group only.</item>
/// <item>dK, dV: a group owns a block of 16 keys of one (batch, kv head) and streams the rows of every
/// query head of the group in tiles of 8; thread t computes the (row t/16, key t%16) pair, then the
/// threads switch to owning (key t/8, every 8th dimension) to accumulate dv += p·dO and dk += ds·Q.
/// A kv head's gradient thus sums its query heads inside one group.</item>
/// </list>
/// Both tiled kernels recompute the scores; blocks (or row tiles) that nothing in the tile can see are
/// skipped by a group vote, which also fences the previous iteration's shared-memory reads. Hidden (row, key)
/// pairs add nothing rather than 0·x: a select on visibility bits (<see cref="AttentionGeometry.VisibleKeys"/>),
/// since a hidden key's or row's data may be NaN.
/// </summary>
internal sealed class AttentionBackwardKernels(KernelLaunch launch, DeviceScratch scratch)
{
    private const int QueryRows = 16, Keys = 16, KeyRows = 8, GroupSize = 128;
    private const int QueryLanes = GroupSize / QueryRows, KeyLanes = GroupSize / Keys;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> _delta =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(DeltaKernel);
    private readonly Action<KernelConfig, AttentionInputs, RowStatistics, ArrayView<float>, ArrayView<float>, AttentionGeometry> _queryGrad =
        launch.Load<AttentionInputs, RowStatistics, ArrayView<float>, ArrayView<float>, AttentionGeometry>(QueryGradKernel);
    private readonly Action<KernelConfig, AttentionInputs, RowStatistics, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry> _keyValueGrad =
        launch.Load<AttentionInputs, RowStatistics, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(KeyValueGradKernel);

    /// <summary>Per-row log-sum-exp and δ, both [B, Hq, Sq].</summary>
    internal readonly record struct RowStatistics(ArrayView<float> LogSumExp, ArrayView<float> Delta);

    public void Backward(AttentionInputs inputs, ArrayView<float> output, ArrayView<float> logSumExp, ArrayView<float> outputGrad,
        ArrayView<float> queryGrad, ArrayView<float> keyGrad, ArrayView<float> valueGrad, AttentionGeometry shape)
    {
        if (shape.RowsPerPair == 0 || shape.KeyLength == 0 || shape.Pairs == 0) return;
        int d = shape.HeadDim;
        int queryFloats = 4 * QueryRows * (d + 1) + QueryRows * d + QueryRows * Keys;
        int keyFloats = 2 * Keys * (d + 1) + 2 * Keys * d + 2 * KeyRows * (d + 1) + 2 * KeyRows * Keys;
        launch.RequireSharedMemory(Math.Max(queryFloats, keyFloats) * sizeof(float), $"attention backward at head dim {d}");

        long rows = (long)shape.Batch * shape.QueryLength * shape.QueryHeads;
        var delta = scratch.Get<float>(rows);
        _delta(launch.WarpPerRow(rows), output, outputGrad, delta, shape);

        var statistics = new RowStatistics(logSumExp, delta);
        int queryTiles = shape.Pairs * ((shape.RowsPerPair + QueryRows - 1) / QueryRows);
        _queryGrad(new KernelConfig(queryTiles, GroupSize, SharedMemoryConfig.RequestDynamic<float>(queryFloats)),
            inputs, statistics, outputGrad, queryGrad, shape);
        int keyBlocks = shape.Pairs * ((shape.KeyLength + Keys - 1) / Keys);
        _keyValueGrad(new KernelConfig(keyBlocks, GroupSize, SharedMemoryConfig.RequestDynamic<float>(keyFloats)),
            inputs, statistics, outputGrad, keyGrad, valueGrad, shape);
    }

    // One warp per (batch, query, head) row of D contiguous values: δ = Σ dO·O, stored at the row's statistics index.
    private static void DeltaKernel(ArrayView<float> output, ArrayView<float> outputGrad, ArrayView<float> delta, AttentionGeometry s)
    {
        int d = s.HeadDim;
        long rows = (long)s.Batch * s.QueryLength * s.QueryHeads;
        for (long row = DeviceMath.GlobalWarp; row < rows; row += DeviceMath.GlobalWarps)
        {
            float dot = 0;
            for (int dim = Warp.LaneIdx; dim < d; dim += Warp.WarpSize) dot += output[row * d + dim] * outputGrad[row * d + dim];
            dot = DeviceMath.WarpSum(dot);
            int head = (int)(row % s.QueryHeads), query = (int)(row / s.QueryHeads % s.QueryLength), b = (int)(row / s.QueryHeads / s.QueryLength);
            if (Warp.IsFirstLane) delta[s.StatsIndex(b, head, query)] = dot;
        }
    }

    private static void QueryGradKernel(AttentionInputs inputs, RowStatistics statistics, ArrayView<float> outputGrad, ArrayView<float> queryGrad,
        AttentionGeometry s)
    {
        int d = s.HeadDim, padded = d + 1;
        var shared = SharedMemory.GetDynamic<float>();
        var qTile = shared.SubView(0, QueryRows * padded);
        var dOutTile = shared.SubView(QueryRows * padded, QueryRows * padded);
        var kBlock = shared.SubView(2 * QueryRows * padded, Keys * padded);
        var vBlock = shared.SubView(3 * QueryRows * padded, Keys * padded);
        var accumulator = shared.SubView(4 * QueryRows * padded, QueryRows * d);
        var ds = shared.SubView(4 * QueryRows * padded + QueryRows * d, QueryRows * Keys);

        int tilesPerPair = (s.RowsPerPair + QueryRows - 1) / QueryRows;
        int pair = Grid.IdxX / tilesPerPair, firstRow = Grid.IdxX % tilesPerPair * QueryRows;
        int b = pair / s.KvHeads, kvHead = pair % s.KvHeads;
        int t = Group.IdxX, r = t / QueryLanes, lane = t % QueryLanes;

        s.StageRows(inputs.Q, qTile, padded, b, kvHead, firstRow, QueryRows);
        s.StageRows(outputGrad, dOutTile, padded, b, kvHead, firstRow, QueryRows);
        for (int dim = lane; dim < d; dim += QueryLanes) accumulator[r * d + dim] = 0f;

        int myRow = firstRow + r;
        bool valid = myRow < s.RowsPerPair;
        int query = s.QueryOfRow(myRow), head = s.HeadOfRow(kvHead, myRow);
        int queryPosition = valid ? inputs.QueryPositions[b * s.QueryLength + query] : -1;
        long stats = valid ? s.StatsIndex(b, head, query) : 0;
        float lseLog2 = valid ? statistics.LogSumExp[stats] * DeviceMath.Log2E : 0f, delta = valid ? statistics.Delta[stats] : 0f;
        float scaleLog2 = s.ScaleLog2;

        for (int block = 0; block < s.KeyLength; block += Keys)
        {
            int seen = s.VisibleKeys(inputs.KeyPositions, b, queryPosition, block, Keys);
            if (!Group.BarrierOr(seen != 0)) continue;
            bool visible1 = AttentionGeometry.Sees(seen, lane), visible2 = AttentionGeometry.Sees(seen, lane + QueryLanes);

            s.StageKeys(inputs, kBlock, padded, vBlock, padded, b, kvHead, block, Keys);
            Group.Barrier();

            float score1 = 0, score2 = 0, dp1 = 0, dp2 = 0;
            for (int dim = 0; dim < d; dim++)
            {
                float qValue = qTile[r * padded + dim], dOut = dOutTile[r * padded + dim];
                score1 += qValue * kBlock[lane * padded + dim];
                score2 += qValue * kBlock[(lane + QueryLanes) * padded + dim];
                dp1 += dOut * vBlock[lane * padded + dim];
                dp2 += dOut * vBlock[(lane + QueryLanes) * padded + dim];
            }
            // ds = p·(dp − δ)·scale, exactly 0 at hidden keys: their dO·v may be NaN.
            float p1 = DeviceMath.Exp2(score1 * scaleLog2 - lseLog2), p2 = DeviceMath.Exp2(score2 * scaleLog2 - lseLog2);
            ds[r * Keys + lane] = visible1 ? p1 * (dp1 - delta) * s.Scale : 0f;
            ds[r * Keys + lane + QueryLanes] = visible2 ? p2 * (dp2 - delta) * s.Scale : 0f;
            Warp.Barrier(); // the row's 8 lanes share one warp

            for (int dim = lane; dim < d; dim += QueryLanes)
            {
                float acc = accumulator[r * d + dim];
                for (int j = 0; j < Keys; j++) acc = AttentionGeometry.Sees(seen, j) ? acc + ds[r * Keys + j] * kBlock[j * padded + dim] : acc;
                accumulator[r * d + dim] = acc;
            }
        }

        if (!valid) return;
        long gradientRow = s.QueryOffset(b, query, head);
        for (int dim = lane; dim < d; dim += QueryLanes) queryGrad[gradientRow + dim] += accumulator[r * d + dim];
    }

    private static void KeyValueGradKernel(AttentionInputs inputs, RowStatistics statistics, ArrayView<float> outputGrad,
        ArrayView<float> keyGrad, ArrayView<float> valueGrad, AttentionGeometry s)
    {
        int d = s.HeadDim, padded = d + 1;
        var shared = SharedMemory.GetDynamic<float>();
        var kBlock = shared.SubView(0, Keys * padded);
        var vBlock = shared.SubView(Keys * padded, Keys * padded);
        var kAccumulator = shared.SubView(2 * Keys * padded, Keys * d);
        var vAccumulator = shared.SubView(2 * Keys * padded + Keys * d, Keys * d);
        int tiles = 2 * Keys * padded + 2 * Keys * d;
        var qTile = shared.SubView(tiles, KeyRows * padded);
        var dOutTile = shared.SubView(tiles + KeyRows * padded, KeyRows * padded);
        var p = shared.SubView(tiles + 2 * KeyRows * padded, KeyRows * Keys);
        var ds = shared.SubView(tiles + 2 * KeyRows * padded + KeyRows * Keys, KeyRows * Keys);

        int blocksPerPair = (s.KeyLength + Keys - 1) / Keys;
        int pair = Grid.IdxX / blocksPerPair, firstKey = Grid.IdxX % blocksPerPair * Keys;
        int b = pair / s.KvHeads, kvHead = pair % s.KvHeads;
        int t = Group.IdxX;
        int scoreRow = t / Keys, scoreKey = t % Keys;           // the (row, key) pair this thread scores
        int ownedKey = t / KeyLanes, lane = t % KeyLanes;       // the key whose gradient dimensions it accumulates

        s.StageKeys(inputs, kBlock, padded, vBlock, padded, b, kvHead, firstKey, Keys);
        for (int dim = lane; dim < d; dim += KeyLanes)
        {
            kAccumulator[ownedKey * d + dim] = 0f;
            vAccumulator[ownedKey * d + dim] = 0f;
        }
        int key = firstKey + scoreKey, gradientKey = firstKey + ownedKey;
        int keyPosition = key < s.KeyLength ? inputs.KeyPositions[b * s.KeyLength + key] : -1;
        int ownedKeyPosition = gradientKey < s.KeyLength ? inputs.KeyPositions[b * s.KeyLength + gradientKey] : -1;
        float scaleLog2 = s.ScaleLog2;

        for (int firstRow = 0; firstRow < s.RowsPerPair; firstRow += KeyRows)
        {
            int row = firstRow + scoreRow;
            bool valid = row < s.RowsPerPair;
            int query = s.QueryOfRow(row), head = s.HeadOfRow(kvHead, row);
            int queryPosition = valid ? inputs.QueryPositions[b * s.QueryLength + query] : -1;
            bool visible = AttentionGeometry.IsVisible(queryPosition, keyPosition, s.Window);
            if (!Group.BarrierOr(visible)) continue;

            s.StageRows(inputs.Q, qTile, padded, b, kvHead, firstRow, KeyRows);
            s.StageRows(outputGrad, dOutTile, padded, b, kvHead, firstRow, KeyRows);
            Group.Barrier();

            float score = 0, dp = 0;
            for (int dim = 0; dim < d; dim++)
            {
                score += qTile[scoreRow * padded + dim] * kBlock[scoreKey * padded + dim];
                dp += dOutTile[scoreRow * padded + dim] * vBlock[scoreKey * padded + dim];
            }
            float probability = 0f, scoreGrad = 0f;
            if (visible)
            {
                long stats = s.StatsIndex(b, head, query);
                probability = DeviceMath.Exp2(score * scaleLog2 - statistics.LogSumExp[stats] * DeviceMath.Log2E);
                scoreGrad = probability * (dp - statistics.Delta[stats]) * s.Scale;
            }
            p[scoreRow * Keys + scoreKey] = probability;
            ds[scoreRow * Keys + scoreKey] = scoreGrad;
            Group.Barrier();

            // Only the rows that see the owned key add to it: p = ds = 0 for the others, whose q or dO may be NaN.
            int seeing = s.SeeingRows(inputs.QueryPositions, b, ownedKeyPosition, firstRow, KeyRows);
            for (int dim = lane; dim < d; dim += KeyLanes)
            {
                float dv = vAccumulator[ownedKey * d + dim], dk = kAccumulator[ownedKey * d + dim];
                for (int i = 0; i < KeyRows; i++)
                {
                    bool sees = AttentionGeometry.Sees(seeing, i);
                    dv = sees ? dv + p[i * Keys + ownedKey] * dOutTile[i * padded + dim] : dv;
                    dk = sees ? dk + ds[i * Keys + ownedKey] * qTile[i * padded + dim] : dk;
                }
                vAccumulator[ownedKey * d + dim] = dv;
                kAccumulator[ownedKey * d + dim] = dk;
            }
        }

        if (gradientKey >= s.KeyLength) return;
        long gradientRow = s.KeyOffset(b, gradientKey, kvHead);
        for (int dim = lane; dim < d; dim += KeyLanes)
        {
            keyGrad[gradientRow + dim] += kAccumulator[ownedKey * d + dim];
            valueGrad[gradientRow + dim] += vAccumulator[ownedKey * d + dim];
        }
    }
}
