// Flash attention on the tensor cores for training (FlashAttention-2 style): bf16 storage, float32
// accumulation and softmax. Layout q [B, S, Hq·D], k and v [B, S, Hkv·D] (row-major, heads side by side),
// positions implicit (query i and key j of one sequence sit at positions i and j), always causal, with an
// optional sliding window W: query i sees key j iff i − W < j ≤ i (docs/DEFINITIONS.md, "Sliding window"; window ≤ 0 means
// none). Query head h reads kv head h / (Hq / Hkv); the group shares K and V without copies.
// Sequences may be right-padded: with `lengths`, slots at or past lengths[b] of sequence b are empty (no
// position); such a query sees no key (zero output, log-sum-exp −inf, no gradient) and such a key is seen by
// none, as the op contract says of empty slots. Bounds use the length; only strides use S.
//
// Forward: one block per (query tile, head, batch), each warp owning 16 query rows with its Q slice in
// registers as mma A fragments; K and V tiles stream through shared memory with cp.async double
// buffering; online softmax in registers; P goes from the score accumulators straight into A fragments.
// Saves the log-sum-exp (natural units) [B, Hq, S] for the backward.
//
// Backward: delta_i = rowsum(dO ∘ O) first, then one block per (key tile, kv head, batch), each warp
// owning 16 keys whose dK and dV stay in registers over every query head of the group and every query
// tile that can see them; P is recomputed from Q·Kᵀ and the log-sum-exp. dQ is either added there with
// float32 atomics (FlashAttention-2) or, deterministically, computed by a pass of its own: one block per
// (query tile, head, batch) streaming the key tiles like the forward. Gradients are float32 and
// accumulated (+=), as every backward gradient of the op contract.
//
// NaN and infinity reach exactly the results that read them (the op contract's IEEE rule): the running maxima
// keep NaN, P and dS are selected to 0 at the (query, key) pairs that do not see each other, and since the mma
// would still add 0·NaN from such a pair, a masked tile's 16-row chunk of the B operand (V, dO, Q or K) that
// holds a non-finite value is summed pair by pair over the pairs that see each other. Finite data never takes
// that path; checking for it costs one read of the chunk in masked tiles only.
#include "c2f/cuda.cuh"

namespace flash_attention {

using bf16 = __nv_bfloat16;

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Shared-memory rows are padded by 8 bf16 (16 bytes): the 8 rows one ldmatrix reads start in 8
// different bank quads, so no bank conflicts, and every row stays 16-byte aligned for cp.async.
template <int Columns>
constexpr int padded = Columns + 8;

C2F_DEVICE int lane_id() { return threadIdx.x % 32; }
C2F_DEVICE int warp_id() { return threadIdx.x / 32; }

// A query at position i sees the key at position j iff i − window < j ≤ i.
C2F_DEVICE bool visible(int query, int key, int window) { return key <= query && key > query - window; }

/// Copies rows [0, Rows) × columns [0, Columns) of a row-major global matrix (`source` at its first row,
/// rows `rowStride` apart) into a padded shared tile; rows at or past `validRows` are zero-filled (ragged
/// sequence ends). Row 0 must be valid: the zero-filled copies still name it as their source.
template <int Rows, int Columns, int Threads>
C2F_DEVICE void load_tile_async(bf16* tile, const bf16* source, long rowStride, int validRows)
{
    constexpr int chunksPerRow = Columns / 8;
    for (int chunk = threadIdx.x; chunk < Rows * chunksPerRow; chunk += Threads)
    {
        int row = chunk / chunksPerRow, column = (chunk % chunksPerRow) * 8;
        bool valid = row < validRows;
        c2f::cp_async_16_zfill(tile + row * padded<Columns> + column,
                               source + (valid ? row * rowStride : 0) + column, valid ? 16 : 0);
    }
}

// ---- mma fragments (PTX ISA m16n8k16 layouts; groupID = lane / 4, threadID_in_group = lane % 4) ----

/// A operand (16×16) at (row0, k0) of a row-major shared matrix.
template <int Stride>
C2F_DEVICE void load_a(uint32_t (&a)[4], const bf16* matrix, int row0, int k0)
{
    int lane = lane_id();
    c2f::ldmatrix_x4(a, matrix + (row0 + lane % 8 + (lane / 8) % 2 * 8) * Stride + k0 + lane / 16 * 8);
}

/// A operand (16×16) at (row0, k0) of a matrix stored transposed, [k][row].
template <int Stride>
C2F_DEVICE void load_a_transposed(uint32_t (&a)[4], const bf16* transposed, int row0, int k0)
{
    int lane = lane_id();
    c2f::ldmatrix_x4_trans(a, transposed + (k0 + lane % 8 + lane / 16 * 8) * Stride + row0 + (lane / 8) % 2 * 8);
}

/// B operands (16×8) of the two column tiles n0 and n0 + 8 at k0, from a matrix stored [n][k]
/// (the B of Q·Kᵀ is K itself): b[0..1] for n0, b[2..3] for n0 + 8.
template <int Stride>
C2F_DEVICE void load_b_pair(uint32_t (&b)[4], const bf16* matrix, int n0, int k0)
{
    int lane = lane_id();
    c2f::ldmatrix_x4(b, matrix + (n0 + lane % 8 + lane / 16 * 8) * Stride + k0 + (lane / 8) % 2 * 8);
}

/// As load_b_pair from a matrix stored [k][n] (the B of P·V is V as it lies).
template <int Stride>
C2F_DEVICE void load_b_pair_transposed(uint32_t (&b)[4], const bf16* matrix, int n0, int k0)
{
    int lane = lane_id();
    c2f::ldmatrix_x4_trans(b, matrix + (k0 + lane % 8 + (lane / 8) % 2 * 8) * Stride + n0 + lane / 16 * 8);
}

/// c[n0] += a·b[0..1], c[n0 + 1] += a·b[2..3].
C2F_DEVICE void mma_pair(float (&c0)[4], float (&c1)[4], const uint32_t (&a)[4], const uint32_t (&b)[4])
{
    const uint32_t low[2] = {b[0], b[1]}, high[2] = {b[2], b[3]};
    c2f::mma_m16n8k16_bf16(c0, a, low, c0);
    c2f::mma_m16n8k16_bf16(c1, a, high, c1);
}

/// The accumulators of two adjacent 16×8 tiles as the A operand of the next product (16 rows × 16 k):
/// the C layout of columns 0-7 and 8-15 is exactly the A layout of k 0-7 and 8-15.
C2F_DEVICE void accumulators_to_a(uint32_t (&a)[4], const float (&left)[4], const float (&right)[4])
{
    a[0] = c2f::pack_bf16x2(left[0], left[1]);
    a[1] = c2f::pack_bf16x2(left[2], left[3]);
    a[2] = c2f::pack_bf16x2(right[0], right[1]);
    a[3] = c2f::pack_bf16x2(right[2], right[3]);
}

/// c[j] += A·Bᵀ for one warp: A 16 × Depth, its k-th 16×16 fragment given by `a_at`, and B a [Columns][Depth]
/// shared matrix (so the product contracts the rows of both, as Q·Kᵀ does).
template <int Columns, int Depth, int Stride, class LoadA>
C2F_DEVICE void warp_gemm_nt(float (&c)[Columns / 8][4], LoadA a_at, const bf16* bRows)
{
#pragma unroll
    for (int k = 0; k < Depth / 16; k++)
    {
        uint32_t a[4];
        a_at(a, k);
#pragma unroll
        for (int n = 0; n < Columns / 16; n++)
        {
            uint32_t b[4];
            load_b_pair<Stride>(b, bRows, 16 * n, 16 * k);
            mma_pair(c[2 * n], c[2 * n + 1], a, b);
        }
    }
}

/// Whether rows [0, 16) × columns [0, Columns) of a padded shared bf16 matrix are all finite, for the whole warp.
template <int Columns, int Stride>
C2F_DEVICE bool rows_finite(const bf16* rows)
{
    constexpr int ChunksPerRow = Columns / 8;  // of 16 bytes
    bool finite = true;
    for (int i = lane_id(); i < 16 * ChunksPerRow; i += 32)
    {
        const uint4 chunk = *reinterpret_cast<const uint4*>(rows + i / ChunksPerRow * Stride + i % ChunksPerRow * 8);
        for (uint32_t word : {chunk.x, chunk.y, chunk.z, chunk.w})
            finite &= (word & 0x7F80u) != 0x7F80u && (word & 0x7F800000u) != 0x7F800000u;  // exponent all ones: NaN or ±inf
    }
    return __all_sync(0xffffffffu, finite);
}

/// The sum of one 16-k chunk of an mma product, c[row][column] += Σ_kk a(row, kk)·B[kk][column], pair by pair over the
/// pairs seen(row, kk) only (local indices; rows of the C fragments, lane / 4 and lane / 4 + 8): what the mma gives
/// but for the 0·NaN of the others. `a(half, kk)` is A at row lane / 4 + 8·half, called by every lane together.
template <int Columns, int Stride, class A, class Seen>
C2F_DEVICE void add_seen_pairs(float (&c)[Columns / 8][4], const bf16* b, A a, Seen seen)
{
    const int lane = lane_id();
#pragma unroll 1
    for (int kk = 0; kk < 16; kk++)
    {
        const float a0 = a(0, kk), a1 = a(1, kk);
        const bool seen0 = seen(lane / 4, kk), seen1 = seen(lane / 4 + 8, kk);
        const bf16* row = b + kk * Stride + 2 * (lane % 4);
#pragma unroll
        for (int t = 0; t < Columns / 8; t++)
        {
            const __nv_bfloat162 pair = *reinterpret_cast<const __nv_bfloat162*>(row + 8 * t);
            const float x0 = __low2float(pair), x1 = __high2float(pair);
            if (seen0)
            {
                c[t][0] = fmaf(a0, x0, c[t][0]);
                c[t][1] = fmaf(a0, x1, c[t][1]);
            }
            if (seen1)
            {
                c[t][2] = fmaf(a1, x0, c[t][2]);
                c[t][3] = fmaf(a1, x1, c[t][3]);
            }
        }
    }
}

/// c[j] += A·B with A the bf16 image of `p` (16 × Depth, in registers) and B a [Depth][Columns] shared matrix. When
/// `masked` (p is 0 at the pairs (row, k) that do not see each other), a chunk of 16 rows of B that holds a NaN or an
/// infinity is summed over the pairs seen(row, k) only (local indices).
template <int Columns, int Depth, int Stride, class Seen>
C2F_DEVICE void warp_gemm_registers_nn(float (&c)[Columns / 8][4], const float (&p)[Depth / 8][4], const bf16* b, bool masked, Seen seen)
{
#pragma unroll
    for (int k = 0; k < Depth / 16; k++)
    {
        if (masked && !rows_finite<Columns, Stride>(b + 16 * k * Stride))
        {
            // A(row, kk) sits in lane 4·(row % 8) + (kk % 8) / 2 of the quad, in p[2k + kk / 8][2·(row / 8) + kk % 2].
            auto a = [&](int half, int kk) {
                const float(&left)[4] = p[2 * k], (&right)[4] = p[2 * k + 1];
                const float mine = kk < 8 ? (kk & 1 ? left[2 * half + 1] : left[2 * half]) : (kk & 1 ? right[2 * half + 1] : right[2 * half]);
                const float value = __shfl_sync(0xffffffffu, mine, (lane_id() & ~3) | (kk & 7) / 2);
                return __bfloat162float(__float2bfloat16_rn(value));  // the mma's operand
            };
            add_seen_pairs<Columns, Stride>(c, b + 16 * k * Stride, a, [&](int row, int kk) { return seen(row, 16 * k + kk); });
            continue;
        }
        uint32_t a[4];
        accumulators_to_a(a, p[2 * k], p[2 * k + 1]);
#pragma unroll
        for (int n = 0; n < Columns / 16; n++)
        {
            uint32_t pair[4];
            load_b_pair_transposed<Stride>(pair, b, 16 * n, 16 * k);
            mma_pair(c[2 * n], c[2 * n + 1], a, pair);
        }
    }
}

template <int Tiles>
C2F_DEVICE void zero(float (&c)[Tiles][4])
{
#pragma unroll
    for (int t = 0; t < Tiles; t++) c[t][0] = c[t][1] = c[t][2] = c[t][3] = 0.0f;
}

/// The maximum (NaN if any is) and sum over the 4 lanes of a quad, which together hold one accumulator row.
C2F_DEVICE float quad_max(float value)
{
    value = c2f::max_nan(value, __shfl_xor_sync(0xffffffffu, value, 1));
    return c2f::max_nan(value, __shfl_xor_sync(0xffffffffu, value, 2));
}

C2F_DEVICE float quad_sum(float value)
{
    value += __shfl_xor_sync(0xffffffffu, value, 1);
    return value + __shfl_xor_sync(0xffffffffu, value, 2);
}

// ---- streaming key tiles past a block of query rows (the forward, and the deterministic dQ) --------------

template <int D, int KeyTile, int Warps>
struct KeyStreamShape
{
    static constexpr int QueryTile = 16 * Warps, Threads = 32 * Warps, Stride = padded<D>;
    static constexpr int KvTileElements = KeyTile * Stride;
    // Three stages of (K, V), so that one barrier per key tile suffices: the stage refilled at the top of
    // an iteration was read two iterations before, by warps that have all passed a barrier since. The
    // query-side tiles are staged in the third, which the loop first fills after such a barrier too.
    static constexpr int Stages = 3;
    static constexpr int SharedBytes = Stages * 2 * KvTileElements * 2;
    static_assert(SharedBytes <= 227 * 1024, "an H100 block has at most 227 KiB of shared memory");
    static_assert(D % 16 == 0 && KeyTile % 16 == 0, "whole mma tiles");
};

/// Streams the key tiles that query rows [query0, query0 + QueryTile) of a sequence with L filled slots can see
/// through three cp.async stages of (K, V) tiles, one barrier per tile. The caller stages its query-side tiles into
/// stage 2 (`stageQueries(stage)`) and reads them into registers once they have landed (`readQueries(stage)`); then
/// `visit(keys, values, key0, masked)` runs for every tile the warp's 16 rows see, `masked` unless every key of the
/// tile is visible to all of them.
template <int D, int KeyTile, int Warps, class StageQueries, class ReadQueries, class Visit>
C2F_DEVICE void for_each_key_tile(bf16* shared, const bf16* keys, const bf16* values, long kvRow, int query0, int L, int window,
                                  StageQueries stageQueries, ReadQueries readQueries, Visit visit)
{
    using Shape = KeyStreamShape<D, KeyTile, Warps>;
    auto keyStage = [&](int stage) { return shared + 2 * stage * Shape::KvTileElements; };  // K, then V
    auto loadKeyTile = [&](int tile, int stage) {
        int key0 = tile * KeyTile;
        load_tile_async<KeyTile, D, Shape::Threads>(keyStage(stage), keys + key0 * kvRow, kvRow, L - key0);
        load_tile_async<KeyTile, D, Shape::Threads>(keyStage(stage) + Shape::KvTileElements, values + key0 * kvRow, kvRow, L - key0);
    };

    // Key tiles that any row of the block sees; each warp narrows them to its own 16 rows.
    const int firstTile = max(0, query0 - window + 1) / KeyTile;
    const int lastTile = (min(query0 + Shape::QueryTile, L) - 1) / KeyTile;
    const int row0 = query0 + 16 * warp_id();
    const bool rowsValid = row0 < L;
    const int warpFirstTile = max(0, row0 - window + 1) / KeyTile;
    const int warpLastTile = min(row0 + 15, L - 1) / KeyTile;

    stageQueries(keyStage(2));
    loadKeyTile(firstTile, 0);
    c2f::cp_async_commit();
    c2f::cp_async_wait<0>();
    __syncthreads();
    readQueries(keyStage(2));

    for (int tile = firstTile; tile <= lastTile; tile++)
    {
        int stage = (tile - firstTile) % Shape::Stages;
        if (tile < lastTile) loadKeyTile(tile + 1, (stage + 1) % Shape::Stages);
        c2f::cp_async_commit();
        c2f::cp_async_wait<1>();
        __syncthreads();
        if (rowsValid && tile >= warpFirstTile && tile <= warpLastTile)
        {
            int key0 = tile * KeyTile;
            // Unmasked when every key of the tile is visible to all 16 rows (and none is past the end).
            bool masked = key0 + KeyTile - 1 > row0 || key0 <= row0 + 15 - window;
            visit(keyStage(stage), keyStage(stage) + Shape::KvTileElements, key0, masked);
        }
    }
}

// ---- forward -----------------------------------------------------------------------------------

/// One key tile for one warp: S = Q·Kᵀ, masked where the tile crosses the causal diagonal or the window
/// edge of the warp's rows, online softmax (row max in log2 units, rescaling O and the lane's partial
/// row sums), then O += P·V.
template <int D, int KeyTile>
C2F_DEVICE void forward_key_tile(const uint32_t (&query)[D / 16][4], const bf16* keys, const bf16* values,
                                 float (&output)[D / 8][4], float (&rowMax)[2], float (&rowSum)[2],
                                 int row0, int key0, int window, bool masked, float scaleLog2)
{
    constexpr int Stride = padded<D>;
    float scores[KeyTile / 8][4];
    zero(scores);
    warp_gemm_nt<KeyTile, D, Stride>(scores, [&](uint32_t (&a)[4], int k) {
        a[0] = query[k][0]; a[1] = query[k][1]; a[2] = query[k][2]; a[3] = query[k][3];
    }, keys);

    int lane = lane_id();
    auto seen = [&](int row, int key) { return visible(row0 + row, key0 + key, window); };
    if (masked)
    {
#pragma unroll
        for (int n = 0; n < KeyTile / 8; n++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                if (!seen(lane / 4 + e / 2 * 8, 8 * n + 2 * (lane % 4) + e % 2)) scores[n][e] = -INFINITY;
    }

#pragma unroll
    for (int half = 0; half < 2; half++)  // rows lane/4 and lane/4 + 8
    {
        float tileMax = -INFINITY;
#pragma unroll
        for (int n = 0; n < KeyTile / 8; n++)
            tileMax = c2f::max_nan(tileMax, c2f::max_nan(scores[n][2 * half], scores[n][2 * half + 1]));
        float newMax = c2f::max_nan(rowMax[half], quad_max(tileMax) * scaleLog2);
        // A row that has seen no key yet keeps max −inf; subtracting 0 then keeps exp2 away from NaN.
        float shift = newMax == -INFINITY ? 0.0f : newMax;
        float rescale = exp2f(rowMax[half] - shift);
        rowMax[half] = newMax;
        rowSum[half] *= rescale;
#pragma unroll
        for (int d = 0; d < D / 8; d++)
        {
            output[d][2 * half] *= rescale;
            output[d][2 * half + 1] *= rescale;
        }
#pragma unroll
        for (int n = 0; n < KeyTile / 8; n++)
#pragma unroll
            for (int e = 2 * half; e < 2 * half + 2; e++)
            {
                scores[n][e] = exp2f(fmaf(scores[n][e], scaleLog2, -shift));
                rowSum[half] += scores[n][e];
            }
    }

    warp_gemm_registers_nn<D, KeyTile, Stride>(output, scores, values, masked, seen);
}

/// The empty query rows [first, last) of one head: zero output and log-sum-exp −inf.
template <int D>
C2F_DEVICE void write_empty_rows(bf16* output, float* logSumExp, long queryRow, int first, int last)
{
    for (int i = threadIdx.x; i < (last - first) * (D / 2); i += blockDim.x)
        *reinterpret_cast<uint32_t*>(output + (first + i / (D / 2)) * queryRow + 2 * (i % (D / 2))) = 0u;
    for (int row = first + threadIdx.x; row < last; row += blockDim.x) logSumExp[row] = -INFINITY;
}

template <int D, int KeyTile, int Warps>
C2F_DEVICE void forward(bf16* shared, const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                        bf16* __restrict__ o, float* __restrict__ logSumExp, const int* __restrict__ lengths,
                        int S, int queryHeads, int kvHeads, int window, float scale)
{
    using Shape = KeyStreamShape<D, KeyTile, Warps>;
    constexpr int QueryTile = Shape::QueryTile, Stride = Shape::Stride;
    const int query0 = (gridDim.x - 1 - blockIdx.x) * QueryTile;  // the longest rows first
    const int head = blockIdx.y, batch = blockIdx.z, kvHead = head / (queryHeads / kvHeads);
    const long queryRow = (long)queryHeads * D, kvRow = (long)kvHeads * D;
    const bf16* queries = q + (long)batch * S * queryRow + head * D;
    const bf16* keys = k + (long)batch * S * kvRow + kvHead * D;
    const bf16* values = v + (long)batch * S * kvRow + kvHead * D;
    bf16* outputs = o + (long)batch * S * queryRow + head * D;
    float* rowLogSumExp = logSumExp + ((long)batch * queryHeads + head) * S;
    if (window <= 0 || window > S) window = S;  // none, or wider than the sequence: the same, and no overflow
    const int L = lengths ? max(0, min(lengths[batch], S)) : S;  // the sequence's filled slots
    if (query0 >= L)
    {
        write_empty_rows<D>(outputs, rowLogSumExp, queryRow, query0, min(query0 + QueryTile, S));
        return;
    }

    static_assert(QueryTile * Stride <= 2 * Shape::KvTileElements, "Q must fit in one (K, V) stage");
    const int row0 = query0 + 16 * warp_id();
    uint32_t query[D / 16][4];
    float output[D / 8][4];
    zero(output);
    float rowMax[2] = {-INFINITY, -INFINITY}, rowSum[2] = {0.0f, 0.0f};
    const float scaleLog2 = scale * kLog2e;
    for_each_key_tile<D, KeyTile, Warps>(
        shared, keys, values, kvRow, query0, L, window,
        [&](bf16* stage) { load_tile_async<QueryTile, D, Shape::Threads>(stage, queries + query0 * queryRow, queryRow, L - query0); },
        [&](const bf16* stage) {
#pragma unroll
            for (int kStep = 0; kStep < D / 16; kStep++) load_a<Stride>(query[kStep], stage, 16 * warp_id(), 16 * kStep);
        },
        [&](const bf16* keyTile, const bf16* valueTile, int key0, bool masked) {
            forward_key_tile<D, KeyTile>(query, keyTile, valueTile, output, rowMax, rowSum, row0, key0, window, masked, scaleLog2);
        });

    int lane = lane_id();
#pragma unroll
    for (int half = 0; half < 2; half++)
    {
        int row = row0 + lane / 4 + 8 * half;
        float sum = quad_sum(rowSum[half]);  // every lane shuffles
        if (row >= S) continue;
        // A filled row sees at least its own key (sum ≥ 1, or NaN). An empty slot's row, computed against the keys all
        // the same, sees nothing: zeros and −inf, selected, since scaling by 0 would keep a NaN it met.
        const bool seesKeys = row < L;
        const float inverse = 1.0f / sum;
        bf16* out = outputs + row * queryRow + 2 * (lane % 4);
#pragma unroll
        for (int d = 0; d < D / 8; d++)
            *reinterpret_cast<uint32_t*>(out + 8 * d) = seesKeys
                ? c2f::pack_bf16x2(output[d][2 * half] * inverse, output[d][2 * half + 1] * inverse) : 0u;
        if (lane % 4 == 0) rowLogSumExp[row] = seesKeys ? (rowMax[half] + log2f(sum)) * kLn2 : -INFINITY;
    }
}

// ---- backward ----------------------------------------------------------------------------------

/// delta[b, h, i] = Σ_d dO[b, i, h, d] · O[b, i, h, d], one warp per (row, head).
template <int D>
C2F_DEVICE void output_dot(const bf16* __restrict__ o, const bf16* __restrict__ outputGrad, float* __restrict__ delta,
                           int batches, int S, int queryHeads)
{
    long rowHead = (long)blockIdx.x * (blockDim.x / 32) + warp_id();  // (b·S + i)·Hq + h
    bool valid = rowHead < (long)batches * S * queryHeads;
    float sum = 0.0f;
    for (int d = 2 * lane_id(); valid && d < D; d += 64)
    {
        __nv_bfloat162 x = *reinterpret_cast<const __nv_bfloat162*>(o + rowHead * D + d);
        __nv_bfloat162 y = *reinterpret_cast<const __nv_bfloat162*>(outputGrad + rowHead * D + d);
        sum += __low2float(x) * __low2float(y) + __high2float(x) * __high2float(y);
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    if (valid && lane_id() == 0)
    {
        long row = rowHead / queryHeads;
        int head = (int)(rowHead % queryHeads);
        long batch = row / S;
        delta[(batch * queryHeads + head) * S + row % S] = sum;
    }
}

template <int D, int Warps, int QueryTile>
struct BackwardShape
{
    static constexpr int KeyTile = 16 * Warps, Threads = 32 * Warps, Stride = padded<D>, DsStride = padded<QueryTile>;
    static constexpr int KvTileElements = KeyTile * Stride, QueryTileElements = QueryTile * Stride;
    // K, V | Q, dO stage 0 | Q, dO stage 1 | dSᵀ [key][query] | (log2 LSE, delta) × 2 stages, float.
    static constexpr int DsOffset = 2 * KvTileElements + 4 * QueryTileElements;
    static constexpr int RowStatsOffset = DsOffset + KeyTile * DsStride;
    static constexpr int SharedBytes = RowStatsOffset * 2 + 4 * QueryTile * 4;
    // dQ of a query tile is shared out in 16-row × DqColumns chunks, the same number for every warp.
    static constexpr int DqColumns = D * (QueryTile / 16) / Warps;
    static_assert(DqColumns % 16 == 0 && D % DqColumns == 0, "dQ chunks must be whole mma tiles");
    static_assert(RowStatsOffset * 2 % 16 == 0, "float row statistics stay aligned");
};

/// One (query head, query tile) for one warp's 16 keys: Sᵀ = K·Qᵀ, Pᵀ = exp(Sᵀ − LSE), dPᵀ = V·dOᵀ,
/// dSᵀ = Pᵀ ∘ (dPᵀ − delta) · scale; dV += Pᵀ·dO, dK += dSᵀ·Q; with AtomicQueryGrad dSᵀ goes to shared memory for dQ.
template <int D, int QueryTile, bool AtomicQueryGrad>
C2F_DEVICE void backward_query_tile(const bf16* keys, const bf16* values, const bf16* queries, const bf16* outputGrads,
                                    const float* rowLse2, const float* rowDelta, bf16* dsTransposed,
                                    float (&keyGrad)[D / 8][4], float (&valueGrad)[D / 8][4],
                                    int key0, int query0, int window, bool masked, float scale)
{
    constexpr int Stride = padded<D>, DsStride = padded<QueryTile>;
    const int localKey0 = 16 * warp_id(), lane = lane_id();
    float p[QueryTile / 8][4], ds[QueryTile / 8][4];
    zero(p);
    zero(ds);
    warp_gemm_nt<QueryTile, D, Stride>(p, [&](uint32_t (&a)[4], int k) { load_a<Stride>(a, keys, localKey0, 16 * k); }, queries);
    warp_gemm_nt<QueryTile, D, Stride>(ds, [&](uint32_t (&a)[4], int k) { load_a<Stride>(a, values, localKey0, 16 * k); }, outputGrads);
    const float scaleLog2 = scale * kLog2e;
    // P and dS exactly 0 where a key and a query do not see each other, whatever NaN their score or dP holds; both in
    // one pass, dP formed first, so that each element's visibility is tested once (kept for a second pass, the 32
    // tests spilled registers at D = 128).
    auto seen = [&](int key, int query) { return visible(query0 + query, key0 + key, window); };
#pragma unroll
    for (int n = 0; n < QueryTile / 8; n++)
#pragma unroll
        for (int e = 0; e < 4; e++)
        {
            const int query = 8 * n + 2 * (lane % 4) + e % 2;
            const bool hidden = masked && !seen(lane / 4 + e / 2 * 8, query);
            p[n][e] = hidden ? 0.0f : exp2f(fmaf(p[n][e], scaleLog2, -rowLse2[query]));
            ds[n][e] = hidden ? 0.0f : p[n][e] * (ds[n][e] - rowDelta[query]) * scale;
        }
    warp_gemm_registers_nn<D, QueryTile, Stride>(valueGrad, p, outputGrads, masked, seen);
    warp_gemm_registers_nn<D, QueryTile, Stride>(keyGrad, ds, queries, masked, seen);
    if constexpr (AtomicQueryGrad)
    {
#pragma unroll
        for (int n = 0; n < QueryTile / 8; n++)
#pragma unroll
            for (int half = 0; half < 2; half++)
                *reinterpret_cast<uint32_t*>(dsTransposed + (localKey0 + lane / 4 + 8 * half) * DsStride + 8 * n + 2 * (lane % 4)) =
                    c2f::pack_bf16x2(ds[n][2 * half], ds[n][2 * half + 1]);
    }
}

/// dQ[query tile] += dS·K over the block's keys, in 16-row chunks spread over the warps, rows below `length`;
/// float32 atomics because every key tile adds into the same rows. When `masked` (dS is 0 where a query and a key
/// do not see each other), a chunk of 16 keys holding a NaN or an infinity is summed over the pairs seen(row, key)
/// only (local indices), as in warp_gemm_registers_nn.
template <int D, int Warps, int QueryTile, class Seen>
C2F_DEVICE void add_query_grad(const bf16* dsTransposed, const bf16* keys, float* queryGrad, long queryRow,
                               int query0, int length, bool masked, Seen seen)
{
    using Shape = BackwardShape<D, Warps, QueryTile>;
    constexpr int Columns = Shape::DqColumns, ChunksPerRow = D / Columns;
    const int lane = lane_id();
    for (int chunk = warp_id(); chunk < (QueryTile / 16) * ChunksPerRow; chunk += Warps)
    {
        int localRow0 = chunk / ChunksPerRow * 16, column0 = chunk % ChunksPerRow * Columns;
        float grad[Columns / 8][4];
        zero(grad);
#pragma unroll
        for (int k = 0; k < Shape::KeyTile / 16; k++)
        {
            const bf16* keyRows = keys + 16 * k * Shape::Stride + column0;
            if (masked && !rows_finite<Columns, Shape::Stride>(keyRows))
            {
                add_seen_pairs<Columns, Shape::Stride>(
                    grad, keyRows,
                    [&](int half, int kk) { return __bfloat162float(dsTransposed[(16 * k + kk) * Shape::DsStride + localRow0 + lane / 4 + 8 * half]); },
                    [&](int row, int kk) { return seen(localRow0 + row, 16 * k + kk); });
                continue;
            }
            uint32_t a[4];
            load_a_transposed<Shape::DsStride>(a, dsTransposed, localRow0, 16 * k);
#pragma unroll
            for (int n = 0; n < Columns / 16; n++)
            {
                uint32_t b[4];
                load_b_pair_transposed<Shape::Stride>(b, keys, column0 + 16 * n, 16 * k);
                mma_pair(grad[2 * n], grad[2 * n + 1], a, b);
            }
        }
#pragma unroll
        for (int half = 0; half < 2; half++)
        {
            int row = query0 + localRow0 + lane / 4 + 8 * half;
            if (row >= length) continue;
            float* out = queryGrad + row * queryRow + column0 + 2 * (lane % 4);
#pragma unroll
            for (int n = 0; n < Columns / 8; n++)
            {
                atomicAdd(out + 8 * n, grad[n][2 * half]);
                atomicAdd(out + 8 * n + 1, grad[n][2 * half + 1]);
            }
        }
    }
}

/// dst[key rows below `length`] += the 16-row accumulator of this warp (the block owns these keys alone: no atomics).
template <int D>
C2F_DEVICE void add_key_rows(float* destination, long rowStride, int key0, int length, const float (&grad)[D / 8][4])
{
    const int lane = lane_id();
#pragma unroll
    for (int half = 0; half < 2; half++)
    {
        int key = key0 + lane / 4 + 8 * half;
        if (key >= length) continue;
        float* row = destination + key * rowStride + 2 * (lane % 4);
#pragma unroll
        for (int d = 0; d < D / 8; d++)
        {
            row[8 * d] += grad[d][2 * half];
            row[8 * d + 1] += grad[d][2 * half + 1];
        }
    }
}

/// dK and dV of one key tile of one kv head, over every query head of its group and every query tile that sees it;
/// with AtomicQueryGrad also dQ, added with float32 atomics (FlashAttention-2), else left to query_grad.
template <int D, int Warps, int QueryTile, bool AtomicQueryGrad>
C2F_DEVICE void backward(bf16* shared, const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                         const bf16* __restrict__ outputGrad, const float* __restrict__ logSumExp, const float* __restrict__ delta,
                         const int* __restrict__ lengths, float* __restrict__ queryGrad, float* __restrict__ keyGrad,
                         float* __restrict__ valueGrad, int S, int queryHeads, int kvHeads, int window, float scale)
{
    using Shape = BackwardShape<D, Warps, QueryTile>;
    constexpr int KeyTile = Shape::KeyTile, Threads = Shape::Threads;
    const int blockKey0 = blockIdx.x * KeyTile, kvHead = blockIdx.y, batch = blockIdx.z;
    const int group = queryHeads / kvHeads;
    const long queryRow = (long)queryHeads * D, kvRow = (long)kvHeads * D;
    if (window <= 0 || window > S) window = S;  // none, or wider than the sequence: the same, and no overflow
    const int L = lengths ? max(0, min(lengths[batch], S)) : S;  // the sequence's filled slots
    if (blockKey0 >= L) return;  // empty keys: no query sees them, so no gradient

    bf16* keys = shared;
    bf16* values = shared + Shape::KvTileElements;
    bf16* dsTransposed = shared + Shape::DsOffset;
    float* rowStats = reinterpret_cast<float*>(shared + Shape::RowStatsOffset);  // [stage][lse2 | delta][QueryTile]
    auto queryStage = [&](int stage) { return shared + 2 * Shape::KvTileElements + 2 * stage * Shape::QueryTileElements; };

    // Query tiles that see any key of the block: from the block's first key to the last key's window end.
    const int firstTile = blockKey0 / QueryTile;
    const int tilesPerHead = (min(L, blockKey0 + KeyTile - 1 + window) - 1) / QueryTile - firstTile + 1;
    const int steps = group * tilesPerHead;
    auto loadQueryTile = [&](int step, int stage) {
        int head = kvHead * group + step / tilesPerHead, query0 = (firstTile + step % tilesPerHead) * QueryTile;
        long first = ((long)batch * S + query0) * queryRow + head * D;
        load_tile_async<QueryTile, D, Threads>(queryStage(stage), q + first, queryRow, L - query0);
        load_tile_async<QueryTile, D, Threads>(queryStage(stage) + Shape::QueryTileElements, outputGrad + first, queryRow, L - query0);
        // Rows past the length (empty slots or the end) get LSE +inf, so P = 0 there, and delta 0.
        const float* lse = logSumExp + ((long)batch * queryHeads + head) * S;
        const float* rowDelta = delta + ((long)batch * queryHeads + head) * S;
        for (int i = threadIdx.x; i < QueryTile; i += Threads)
        {
            bool valid = query0 + i < L;
            rowStats[2 * stage * QueryTile + i] = valid ? lse[query0 + i] * kLog2e : INFINITY;
            rowStats[(2 * stage + 1) * QueryTile + i] = valid ? rowDelta[query0 + i] : 0.0f;
        }
    };

    const long kvFirst = ((long)batch * S + blockKey0) * kvRow + kvHead * D;
    load_tile_async<KeyTile, D, Threads>(keys, k + kvFirst, kvRow, L - blockKey0);
    load_tile_async<KeyTile, D, Threads>(values, v + kvFirst, kvRow, L - blockKey0);
    loadQueryTile(0, 0);
    c2f::cp_async_commit();

    float keyAccumulator[D / 8][4], valueAccumulator[D / 8][4];
    zero(keyAccumulator);
    zero(valueAccumulator);
    const int key0 = blockKey0 + 16 * warp_id();
    for (int step = 0; step < steps; step++)
    {
        int stage = step & 1;
        if (step + 1 < steps) loadQueryTile(step + 1, stage ^ 1);
        c2f::cp_async_commit();
        c2f::cp_async_wait<1>();
        __syncthreads();

        int head = kvHead * group + step / tilesPerHead, query0 = (firstTile + step % tilesPerHead) * QueryTile;
        // The warp's 16 keys meet this query tile only between the causal edge and the window's end.
        bool active = key0 < L && query0 + QueryTile - 1 >= key0 && query0 <= key0 + 15 + window - 1;
        if (active)
        {
            bool masked = query0 < key0 + 15 || query0 + QueryTile - 1 - window >= key0;
            backward_query_tile<D, QueryTile, AtomicQueryGrad>(keys, values, queryStage(stage), queryStage(stage) + Shape::QueryTileElements,
                                              rowStats + 2 * stage * QueryTile, rowStats + (2 * stage + 1) * QueryTile,
                                              dsTransposed, keyAccumulator, valueAccumulator, key0, query0, window, masked, scale);
        }
        else if (AtomicQueryGrad)
        {
            for (int i = lane_id(); i < 16 * QueryTile / 2; i += 32)
                reinterpret_cast<uint32_t*>(dsTransposed + (16 * warp_id() + i / (QueryTile / 2)) * Shape::DsStride)[i % (QueryTile / 2)] = 0;
        }
        // Every warp's dSᵀ is written, and every warp is done with this Q/dO stage, so the next step's prefetch
        // may refill it; the next step's first barrier keeps its dSᵀ writes behind these reads.
        __syncthreads();
        if (AtomicQueryGrad)
        {
            // Some query of the tile and key of the block do not see each other (or a warp's keys sat the tile out).
            bool blockMasked = query0 < blockKey0 + KeyTile - 1 || query0 + QueryTile - 1 - window >= blockKey0;
            add_query_grad<D, Warps, QueryTile>(dsTransposed, keys, queryGrad + (long)batch * S * queryRow + head * D, queryRow, query0, L,
                                                blockMasked, [&](int row, int key) { return visible(query0 + row, blockKey0 + key, window); });
        }
    }

    add_key_rows<D>(keyGrad + (long)batch * S * kvRow + kvHead * D, kvRow, key0, L, keyAccumulator);
    add_key_rows<D>(valueGrad + (long)batch * S * kvRow + kvHead * D, kvRow, key0, L, valueAccumulator);
}

// ---- deterministic dQ --------------------------------------------------------------------------------

/// One key tile for one warp's 16 query rows: P = exp(Q·Kᵀ − LSE), dP = dO·Vᵀ, dS = P ∘ (dP − delta) · scale,
/// dQ += dS·K.
template <int D, int KeyTile>
C2F_DEVICE void query_grad_key_tile(const uint32_t (&query)[D / 16][4], const uint32_t (&outputGrad)[D / 16][4],
                                    const bf16* keys, const bf16* values, float (&queryGrad)[D / 8][4],
                                    const float (&rowLse2)[2], const float (&rowDelta)[2], int row0, int key0, int window,
                                    bool masked, float scale)
{
    constexpr int Stride = padded<D>;
    float ds[KeyTile / 8][4], dp[KeyTile / 8][4];
    zero(ds);
    zero(dp);
    warp_gemm_nt<KeyTile, D, Stride>(ds, [&](uint32_t (&a)[4], int k) {
        a[0] = query[k][0]; a[1] = query[k][1]; a[2] = query[k][2]; a[3] = query[k][3];
    }, keys);
    warp_gemm_nt<KeyTile, D, Stride>(dp, [&](uint32_t (&a)[4], int k) {
        a[0] = outputGrad[k][0]; a[1] = outputGrad[k][1]; a[2] = outputGrad[k][2]; a[3] = outputGrad[k][3];
    }, values);
    const float scaleLog2 = scale * kLog2e;
    const int lane = lane_id();
    auto seen = [&](int row, int key) { return visible(row0 + row, key0 + key, window); };
#pragma unroll
    for (int n = 0; n < KeyTile / 8; n++)
#pragma unroll
        for (int e = 0; e < 4; e++)
        {
            // Exactly 0 where the row does not see the key, whatever NaN its score or dP hold.
            const float p = exp2f(fmaf(ds[n][e], scaleLog2, -rowLse2[e / 2]));
            const bool hidden = masked && !seen(lane / 4 + e / 2 * 8, 8 * n + 2 * (lane % 4) + e % 2);
            ds[n][e] = hidden ? 0.0f : p * (dp[n][e] - rowDelta[e / 2]) * scale;
        }
    warp_gemm_registers_nn<D, KeyTile, Stride>(queryGrad, ds, keys, masked, seen);
}

/// dQ without atomics: one block per (query tile, head, batch) streams the key tiles its rows see, in order, and
/// adds its rows' dQ once, so the result does not depend on scheduling. It recomputes Q·Kᵀ and dO·Vᵀ, which the
/// key-side pass also forms: 7 products per pair of tiles instead of FlashAttention-2's 5.
template <int D, int KeyTile, int Warps>
C2F_DEVICE void query_grad(bf16* shared, const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                           const bf16* __restrict__ outputGrad, const float* __restrict__ logSumExp, const float* __restrict__ delta,
                           const int* __restrict__ lengths, float* __restrict__ queryGrad,
                           int S, int queryHeads, int kvHeads, int window, float scale)
{
    using Shape = KeyStreamShape<D, KeyTile, Warps>;
    constexpr int QueryTile = Shape::QueryTile, Stride = Shape::Stride;
    static_assert(QueryTile <= KeyTile, "Q and dO must fit in one (K, V) stage");
    const int query0 = (gridDim.x - 1 - blockIdx.x) * QueryTile;  // the longest rows first
    const int head = blockIdx.y, batch = blockIdx.z, kvHead = head / (queryHeads / kvHeads);
    const long queryRow = (long)queryHeads * D, kvRow = (long)kvHeads * D;
    const long firstQuery = (long)batch * S * queryRow + head * D;
    const bf16* keys = k + (long)batch * S * kvRow + kvHead * D;
    const bf16* values = v + (long)batch * S * kvRow + kvHead * D;
    if (window <= 0 || window > S) window = S;  // none, or wider than the sequence: the same, and no overflow
    const int L = lengths ? max(0, min(lengths[batch], S)) : S;  // the sequence's filled slots
    if (query0 >= L) return;  // empty queries take no gradient

    const int row0 = query0 + 16 * warp_id(), lane = lane_id();
    const float* rowStats = logSumExp + ((long)batch * queryHeads + head) * S;
    const float* rowDeltas = delta + ((long)batch * queryHeads + head) * S;
    float rowLse2[2], rowDelta[2];
#pragma unroll
    for (int half = 0; half < 2; half++)
    {
        // Rows past the length, or that saw no key, get LSE +inf, so P = 0 there, and delta 0.
        int row = row0 + lane / 4 + 8 * half;
        float lse = row < L ? rowStats[row] : -INFINITY;
        rowLse2[half] = lse == -INFINITY ? INFINITY : lse * kLog2e;
        rowDelta[half] = row < L ? rowDeltas[row] : 0.0f;
    }

    uint32_t query[D / 16][4], grad[D / 16][4];
    float dq[D / 8][4];
    zero(dq);
    for_each_key_tile<D, KeyTile, Warps>(
        shared, keys, values, kvRow, query0, L, window,
        [&](bf16* stage) {
            load_tile_async<QueryTile, D, Shape::Threads>(stage, q + firstQuery + query0 * queryRow, queryRow, L - query0);
            load_tile_async<QueryTile, D, Shape::Threads>(stage + Shape::KvTileElements, outputGrad + firstQuery + query0 * queryRow,
                                                           queryRow, L - query0);
        },
        [&](const bf16* stage) {
#pragma unroll
            for (int kStep = 0; kStep < D / 16; kStep++)
            {
                load_a<Stride>(query[kStep], stage, 16 * warp_id(), 16 * kStep);
                load_a<Stride>(grad[kStep], stage + Shape::KvTileElements, 16 * warp_id(), 16 * kStep);
            }
        },
        [&](const bf16* keyTile, const bf16* valueTile, int key0, bool masked) {
            query_grad_key_tile<D, KeyTile>(query, grad, keyTile, valueTile, dq, rowLse2, rowDelta, row0, key0, window, masked, scale);
        });

#pragma unroll
    for (int half = 0; half < 2; half++)
    {
        int row = row0 + lane / 4 + 8 * half;
        if (row >= L) continue;
        float* out = queryGrad + firstQuery + row * queryRow + 2 * (lane % 4);
#pragma unroll
        for (int d = 0; d < D / 8; d++)
        {
            out[8 * d] += dq[d][2 * half];
            out[8 * d + 1] += dq[d][2 * half + 1];
        }
    }
}

// The shapes of the entry points: 128-row query tiles of 8 warps and 64-key tiles forward, 128-key
// tiles of 8 warps and 64-row query tiles backward, 64-row query tiles of 4 warps and 64-key tiles for
// the deterministic dQ.
constexpr int ForwardWarps = 8, ForwardKeyTile = 64, BackwardWarps = 8, BackwardQueryTile = 64;
constexpr int QueryGradWarps = 4, QueryGradKeyTile = 64;

}  // namespace flash_attention

#define C2F_FLASH_ATTENTION_ENTRY_POINTS(D)                                                                                    \
    extern "C" __global__ void __launch_bounds__(32 * flash_attention::ForwardWarps)                                          \
    c2f_flash_attention_forward_d##D##_bf16(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v,          \
                                            __nv_bfloat16* o, float* logSumExp, const int* lengths, int S, int queryHeads,    \
                                            int kvHeads, int window, float scale)                                             \
    {                                                                                                                         \
        C2F_DYNAMIC_SHARED(__nv_bfloat16, shared);                                                                            \
        flash_attention::forward<D, flash_attention::ForwardKeyTile, flash_attention::ForwardWarps>(                          \
            shared, q, k, v, o, logSumExp, lengths, S, queryHeads, kvHeads, window, scale);                                   \
    }                                                                                                                         \
    C2F_REGISTER_KERNEL(c2f_flash_attention_forward_d##D##_bf16);                                                             \
                                                                                                                              \
    extern "C" __global__ void __launch_bounds__(256)                                                                         \
    c2f_flash_attention_backward_delta_d##D##_bf16(const __nv_bfloat16* o, const __nv_bfloat16* outputGrad, float* delta,     \
                                                   int batches, int S, int queryHeads)                                        \
    {                                                                                                                         \
        flash_attention::output_dot<D>(o, outputGrad, delta, batches, S, queryHeads);                                         \
    }                                                                                                                         \
    C2F_REGISTER_KERNEL(c2f_flash_attention_backward_delta_d##D##_bf16);                                                      \
                                                                                                                              \
    extern "C" __global__ void __launch_bounds__(32 * flash_attention::BackwardWarps)                                         \
    c2f_flash_attention_backward_d##D##_bf16(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v,         \
                                             const __nv_bfloat16* outputGrad, const float* logSumExp, const float* delta,     \
                                             const int* lengths, float* queryGrad, float* keyGrad, float* valueGrad,          \
                                             int S, int queryHeads, int kvHeads, int window, float scale)                     \
    {                                                                                                                         \
        C2F_DYNAMIC_SHARED(__nv_bfloat16, shared);                                                                            \
        flash_attention::backward<D, flash_attention::BackwardWarps, flash_attention::BackwardQueryTile, true>(               \
            shared, q, k, v, outputGrad, logSumExp, delta, lengths, queryGrad, keyGrad, valueGrad, S, queryHeads, kvHeads,    \
            window, scale);                                                                                                   \
    }                                                                                                                         \
    C2F_REGISTER_KERNEL(c2f_flash_attention_backward_d##D##_bf16);                                                            \
                                                                                                                              \
    /* The deterministic backward: dK and dV here, dQ in its own pass below. */                                              \
    extern "C" __global__ void __launch_bounds__(32 * flash_attention::BackwardWarps)                                         \
    c2f_flash_attention_backward_keys_d##D##_bf16(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v,    \
                                                  const __nv_bfloat16* outputGrad, const float* logSumExp, const float* delta, \
                                                  const int* lengths, float* keyGrad, float* valueGrad,                        \
                                                  int S, int queryHeads, int kvHeads, int window, float scale)                \
    {                                                                                                                         \
        C2F_DYNAMIC_SHARED(__nv_bfloat16, shared);                                                                            \
        flash_attention::backward<D, flash_attention::BackwardWarps, flash_attention::BackwardQueryTile, false>(              \
            shared, q, k, v, outputGrad, logSumExp, delta, lengths, nullptr, keyGrad, valueGrad, S, queryHeads, kvHeads,      \
            window, scale);                                                                                                   \
    }                                                                                                                         \
    C2F_REGISTER_KERNEL(c2f_flash_attention_backward_keys_d##D##_bf16);                                                       \
                                                                                                                              \
    extern "C" __global__ void __launch_bounds__(32 * flash_attention::QueryGradWarps)                                        \
    c2f_flash_attention_backward_queries_d##D##_bf16(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, \
                                                     const __nv_bfloat16* outputGrad, const float* logSumExp,                 \
                                                     const float* delta, const int* lengths, float* queryGrad,                \
                                                     int S, int queryHeads, int kvHeads, int window, float scale)             \
    {                                                                                                                         \
        C2F_DYNAMIC_SHARED(__nv_bfloat16, shared);                                                                            \
        flash_attention::query_grad<D, flash_attention::QueryGradKeyTile, flash_attention::QueryGradWarps>(                   \
            shared, q, k, v, outputGrad, logSumExp, delta, lengths, queryGrad, S, queryHeads, kvHeads, window, scale);        \
    }                                                                                                                         \
    C2F_REGISTER_KERNEL(c2f_flash_attention_backward_queries_d##D##_bf16);

C2F_FLASH_ATTENTION_ENTRY_POINTS(64)
C2F_FLASH_ATTENTION_ENTRY_POINTS(128)
