using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Flash-style attention forward: a group of 128 threads owns a tile of 16 rows (queries × heads of one
/// GQA group, see <see cref="AttentionGeometry"/>) and streams the keys in blocks of 16 with an online
/// softmax, so no S×S matrix exists. Thread t works on row t/8 with the 7 neighbouring lanes of its warp:
/// each scores 2 of the row's 16 keys against the staged block and publishes the scores; each lane then
/// reads the row's 16 scores to get the block max (redundantly, instead of shuffles), publishes p for its
/// 2 keys, and finally owns every 8th output dimension of the row, rescaling and accumulating p·V in
/// shared memory. Per block: one group vote skips blocks no row of the tile can see (it also fences the
/// previous block's reads), one barrier after staging K and V, and two warp barriers (a row's lanes share
/// a warp). Scores live in the exp2 domain (scale·log2 e folded in). Shared memory: Q and K rows padded to
/// D+1 floats so the 8 keys read at once fall in different banks, V and the output accumulator D floats,
/// scores and p 16×16 each. Each lane holds a bit mask of the block's keys its row sees: the max takes NaN
/// scores along, and p·v is added at seen keys only (p = 0 at a hidden key, whose value may be NaN).
/// </summary>
internal sealed class AttentionForwardKernels(KernelLaunch launch)
{
    private const int Rows = 16, Keys = 16, GroupSize = 128, Lanes = GroupSize / Rows;

    private readonly Action<KernelConfig, AttentionInputs, ArrayView<float>, ArrayView<float>, int, AttentionGeometry> _forward =
        launch.Load<AttentionInputs, ArrayView<float>, ArrayView<float>, int, AttentionGeometry>(ForwardKernel);

    public void Forward(AttentionInputs inputs, ArrayView<float> output, ArrayView<float>? logSumExp, AttentionGeometry shape)
    {
        if (shape.RowsPerPair == 0 || shape.Pairs == 0) return;
        int d = shape.HeadDim, floats = 2 * Rows * (d + 1) + 2 * Keys * d + 2 * Rows * Keys;
        launch.RequireSharedMemory(floats * sizeof(float), $"attention forward at head dim {d}");
        int groups = shape.Pairs * ((shape.RowsPerPair + Rows - 1) / Rows);
        _forward(new KernelConfig(groups, GroupSize, SharedMemoryConfig.RequestDynamic<float>(floats)),
            inputs, output, logSumExp ?? output, logSumExp is null ? 0 : 1, shape);
    }

    private static void ForwardKernel(AttentionInputs inputs, ArrayView<float> output, ArrayView<float> logSumExp, int hasLogSumExp, AttentionGeometry s)
    {
        int d = s.HeadDim, padded = d + 1;
        var shared = SharedMemory.GetDynamic<float>();
        var qTile = shared.SubView(0, Rows * padded);
        var kBlock = shared.SubView(Rows * padded, Keys * padded);
        var vBlock = shared.SubView(2 * Rows * padded, Keys * d);
        var accumulator = shared.SubView(2 * Rows * padded + Keys * d, Rows * d);
        var scores = shared.SubView(2 * Rows * padded + (Keys + Rows) * d, Rows * Keys);
        var p = shared.SubView(2 * Rows * padded + (Keys + Rows) * d + Rows * Keys, Rows * Keys);

        int tilesPerPair = (s.RowsPerPair + Rows - 1) / Rows;
        int pair = Grid.IdxX / tilesPerPair, firstRow = Grid.IdxX % tilesPerPair * Rows;
        int b = pair / s.KvHeads, kvHead = pair % s.KvHeads;
        int t = Group.IdxX, r = t / Lanes, lane = t % Lanes;

        s.StageRows(inputs.Q, qTile, padded, b, kvHead, firstRow, Rows);
        for (int dim = lane; dim < d; dim += Lanes) accumulator[r * d + dim] = 0f;

        int myRow = firstRow + r;
        bool valid = myRow < s.RowsPerPair;
        int query = s.QueryOfRow(myRow), head = s.HeadOfRow(kvHead, myRow);
        int queryPosition = valid ? inputs.QueryPositions[b * s.QueryLength + query] : -1;
        float max = float.NegativeInfinity, sum = 0, scaleLog2 = s.ScaleLog2;

        for (int block = 0; block < s.KeyLength; block += Keys)
        {
            int seen = s.VisibleKeys(inputs.KeyPositions, b, queryPosition, block, Keys);
            if (!Group.BarrierOr(seen != 0)) continue;
            bool visible1 = AttentionGeometry.Sees(seen, lane), visible2 = AttentionGeometry.Sees(seen, lane + Lanes);

            s.StageKeys(inputs, kBlock, padded, vBlock, d, b, kvHead, block, Keys);
            Group.Barrier();

            float score1 = 0, score2 = 0;
            for (int dim = 0; dim < d; dim++)
            {
                float qValue = qTile[r * padded + dim];
                score1 += qValue * kBlock[lane * padded + dim];
                score2 += qValue * kBlock[(lane + Lanes) * padded + dim];
            }
            scores[r * Keys + lane] = visible1 ? score1 * scaleLog2 : float.NegativeInfinity;
            scores[r * Keys + lane + Lanes] = visible2 ? score2 * scaleLog2 : float.NegativeInfinity;
            Warp.Barrier();

            float newMax = max;
            for (int j = 0; j < Keys; j++) newMax = DeviceMath.Maximum(newMax, scores[r * Keys + j]); // a NaN score poisons the row
            p[r * Keys + lane] = visible1 ? DeviceMath.Exp2(scores[r * Keys + lane] - newMax) : 0f;
            p[r * Keys + lane + Lanes] = visible2 ? DeviceMath.Exp2(scores[r * Keys + lane + Lanes] - newMax) : 0f;
            float correction = max == float.NegativeInfinity ? 0f : DeviceMath.Exp2(max - newMax);
            max = newMax;
            Warp.Barrier();

            float blockSum = 0;
            for (int j = 0; j < Keys; j++) blockSum += p[r * Keys + j];
            sum = sum * correction + blockSum;
            for (int dim = lane; dim < d; dim += Lanes)
            {
                float acc = accumulator[r * d + dim] * correction;
                for (int j = 0; j < Keys; j++) acc = AttentionGeometry.Sees(seen, j) ? acc + p[r * Keys + j] * vBlock[j * d + dim] : acc;
                accumulator[r * d + dim] = acc;
            }
        }

        // A row that saw no key has a sum of exactly 0 (a seen key adds 2^0 = 1 at the max) and gets zeros and -inf;
        // a NaN sum is no empty row: it divides into NaN.
        if (!valid) return;
        long outputRow = s.QueryOffset(b, query, head);
        for (int dim = lane; dim < d; dim += Lanes) output[outputRow + dim] = sum != 0 ? accumulator[r * d + dim] / sum : 0f;
        if (hasLogSumExp != 0 && lane == 0)
            logSumExp[s.StatsIndex(b, head, query)] = sum != 0 ? (max + DeviceMath.Log2(sum)) * DeviceMath.Ln2 : float.NegativeInfinity;
    }
}

/// <summary>The attention inputs every kernel reads, bundled to stay within ILGPU's kernel parameter count.</summary>
internal readonly record struct AttentionInputs(ArrayView<float> Q, ArrayView<float> K, ArrayView<float> V,
    ArrayView<int> QueryPositions, ArrayView<int> KeyPositions);
