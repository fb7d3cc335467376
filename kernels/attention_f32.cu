#include "c2f/cuda.cuh"

// Float32 softmax attention, forward and backward, on the CUDA cores (the op contract's Backend.Attention
// and Backend.AttentionBackward; tensor cores would round to TF32 and miss the 1e-5 the contract holds).
//
// Layouts: q, output, dq [B, Sq, Hq·D]; k, v, dk, dv [B, Sk, Hkv·D]; query positions [B, Sq]; key positions
// [B, Sk] with -1 for an empty slot of a rolling cache (slots may be in any order); log-sum-exp [B, Hq, Sq].
// Key position kp is visible to query position qp iff 0 <= kp <= qp and, with a window W > 0, qp - W < kp.
//
// Work is tiled over "rows" of one (batch, kv head) pair: row = query·G + g is query `query` of query head
// kvHead·G + g (G = Hq / Hkv), so one tile holds every head of a GQA group and each staged key block serves
// all of them; repeated K/V never exist. Scores live in the exp2 domain (scale·log2 e folded in). Key blocks
// that no row of a tile can see are skipped by comparing position ranges (min/max over the block's non-empty
// slots against the tile's query positions), which holds for permuted slots as well as sorted ones. Empty
// slots and keys past the end are staged as zeros, so a NaN in a free cache slot never reaches a result. A NaN
// or infinity in any element a query's result reads reaches that result (the op contract's IEEE rule): the
// running maxima keep NaN, and a (row, key) pair that does not see each other is left out of every weighted sum
// rather than weighted by 0, since 0·NaN = NaN.
//
// Each kernel keeps one head-dimension slice per lane in registers: C = ceil(D/32) rounded up to 1, 2, 4 or 8
// (D <= 256), one set of entry points per C. Shared tiles are read as float4 with row strides in
// whole float4s; tiles read by a different row per lane get an odd float4 stride (conflict-free per quarter
// warp), tiles read by all lanes at one address (a broadcast) are unpadded.

namespace c2f_attention {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
// Two blocks per SM as the floor lets ptxas keep every accumulator in registers (no spills) at D = 256.
// (The emulator's __launch_bounds__ drops its arguments, hence maybe_unused.)
[[maybe_unused]] constexpr int kMinBlocks = 2;
constexpr float kLog2E = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;
constexpr int kNoPosition = 0x7fffffff;

// Forward and dq: a warp owns kRowsPerWarp rows, the block kQueryTile rows; lane j scores key j of a block.
constexpr int kRowsPerWarp = 4;
constexpr int kQueryTile = kWarps * kRowsPerWarp;
constexpr int kKeyBlock = 32;
// dk, dv: a warp owns kKeysPerWarp keys, the block kKeyTile keys; lane r scores row r of a tile of 32.
constexpr int kKeysPerWarp = 4;
constexpr int kKeyTile = kWarps * kKeysPerWarp;
constexpr int kRowTile = 32;
static_assert(kKeysPerWarp == kRowsPerWarp && kRowTile == kKeyBlock, "dk and dv sum their rows as the forward sums its keys");

struct Geometry
{
    int batch, query_length, key_length, query_heads, kv_heads, head_dim, window;
    float scale;

    C2F_DEVICE int group() const { return query_heads / kv_heads; }
    C2F_DEVICE int rows() const { return query_length * group(); }
    C2F_DEVICE int float4s() const { return (head_dim + 3) / 4; }
    // Row strides in float4s: unpadded for broadcast reads, odd for reads of a different row per lane.
    C2F_DEVICE int broadcast_stride() const { return float4s(); }
    C2F_DEVICE int lane_stride() const { return float4s() | 1; }

    C2F_DEVICE size_t query_offset(int b, int row, int kv_head) const
    {
        int query = row / group(), head = kv_head * group() + row % group();
        return ((size_t(b) * query_length + query) * query_heads + head) * head_dim;
    }
    C2F_DEVICE size_t key_offset(int b, int key, int kv_head) const
    {
        return ((size_t(b) * key_length + key) * kv_heads + kv_head) * head_dim;
    }
    C2F_DEVICE size_t stats_index(int b, int row, int kv_head) const
    {
        int query = row / group(), head = kv_head * group() + row % group();
        return (size_t(b) * query_heads + head) * query_length + query;
    }
    // The position of a row's query, or -1 (sees nothing) past the last row.
    C2F_DEVICE int row_position(const int* query_positions, int b, int row) const
    {
        return row < rows() ? query_positions[size_t(b) * query_length + row / group()] : -1;
    }
    C2F_DEVICE int key_position(const int* key_positions, int b, int key) const
    {
        return key < key_length ? key_positions[size_t(b) * key_length + key] : -1;
    }
};

C2F_DEVICE bool is_visible(int query_position, int key_position, int window)
{
    return key_position >= 0 && key_position <= query_position && (window == 0 || query_position - window < key_position);
}

C2F_DEVICE float warp_max(float x)
{
    for (int offset = 16; offset > 0; offset /= 2) x = c2f::max_nan(x, __shfl_xor_sync(0xffffffffu, x, offset));
    return x;
}

C2F_DEVICE float warp_sum(float x)
{
    for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(0xffffffffu, x, offset);
    return x;
}

C2F_DEVICE int warp_max(int x)
{
    for (int offset = 16; offset > 0; offset /= 2) x = max(x, __shfl_xor_sync(0xffffffffu, x, offset));
    return x;
}

C2F_DEVICE int warp_min(int x)
{
    for (int offset = 16; offset > 0; offset /= 2) x = min(x, __shfl_xor_sync(0xffffffffu, x, offset));
    return x;
}

/// The positions of a group of rows or keys (one per lane, -1 for none) as a range over the non-negative
/// ones; every lane gets the same range. Empty: first = kNoPosition, last = -1.
struct PositionRange
{
    int first, last;

    C2F_DEVICE static PositionRange of_lanes(int position)
    {
        return {warp_min(position >= 0 ? position : kNoPosition), warp_max(position)};
    }

    /// Whether some query in `queries` may see some key in `keys` (a superset test: never false when one does).
    C2F_DEVICE bool may_see(PositionRange keys, int window) const
    {
        return keys.first <= last && (window == 0 || keys.last > first - window);
    }
};

/// One warp copies a row of D floats into a shared row of `stride` float4s, zeros past D and for a null source
/// (past the end, an empty slot); float4 loads where the source allows them (D a multiple of 4, 16-byte aligned).
C2F_DEVICE void copy_row(float* row, const float* source, int stride, int head_dim)
{
    const int lane = threadIdx.x % 32;
    if (source != nullptr && head_dim % 4 == 0 && reinterpret_cast<uintptr_t>(source) % 16 == 0)
    {
        #pragma unroll 1
        for (int i = lane; i < stride; i += 32)
            reinterpret_cast<float4*>(row)[i] = i < head_dim / 4 ? reinterpret_cast<const float4*>(source)[i] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
    else
    {
        #pragma unroll 1
        for (int dim = lane; dim < 4 * stride; dim += 32) row[dim] = source != nullptr && dim < head_dim ? source[dim] : 0.0f;
    }
}

C2F_DEVICE float dot4(float4 a, float4 b, float sum)
{
    return fmaf(a.w, b.w, fmaf(a.z, b.z, fmaf(a.y, b.y, fmaf(a.x, b.x, sum))));
}

C2F_DEVICE float component(float4 v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

C2F_DEVICE const float4* as_float4(const float* tile) { return reinterpret_cast<const float4*>(tile); }

/// acc[r][c] += Σ_j weights[r][j] · rows[j][lane + 32c] over the 32 staged rows j: the P·V of the forward, the dS·K
/// of dq (r a query row, j a key), and the P·dO and dS·Q of dk and dv (r a key, j a query row). `weights` is the
/// warp's kRowsPerWarp × 32 tile, `rows` 4·stride floats apart. Masked, only the pairs of bit j of seen[r]: a hidden
/// pair's weight is 0, but 0·NaN = NaN, and a row the pair does not read must change nothing.
template <int C, bool Masked>
C2F_DEVICE void accumulate_weighted_rows(float (&acc)[kRowsPerWarp][C], const float* weights, const float* rows, int stride, int lane,
    const unsigned (&seen)[kRowsPerWarp])
{
    #pragma unroll 1
    for (int j4 = 0; j4 < kKeyBlock / 4; j4++)
    {
        float4 w[kRowsPerWarp];
        #pragma unroll
        for (int r = 0; r < kRowsPerWarp; r++) w[r] = as_float4(weights)[r * 8 + j4];
        #pragma unroll
        for (int jj = 0; jj < 4; jj++)
        {
            const float* row = rows + (j4 * 4 + jj) * 4 * stride;
            #pragma unroll
            for (int c = 0; c < C; c++)
            {
                float x = row[min(lane + 32 * c, 4 * stride - 1)];
                #pragma unroll
                for (int r = 0; r < kRowsPerWarp; r++)
                    if (!Masked || (seen[r] >> (j4 * 4 + jj) & 1u)) acc[r][c] = fmaf(component(w[r], jj), x, acc[r][c]);
            }
        }
    }
}

/// accumulate_weighted_rows over the pairs that see each other (visible[r]: whether this lane's j and the warp's r
/// do), by the plain loop when all of them do (a block inside every row's window), else by the masked one.
template <int C>
C2F_DEVICE void accumulate_visible_rows(float (&acc)[kRowsPerWarp][C], const float* weights, const float* rows, int stride, int lane,
    const bool (&visible)[kRowsPerWarp])
{
    unsigned seen[kRowsPerWarp];
    bool all = true;
    #pragma unroll
    for (int r = 0; r < kRowsPerWarp; r++)
    {
        seen[r] = __ballot_sync(0xffffffffu, visible[r]);
        all &= seen[r] == 0xffffffffu;
    }
    if (all) accumulate_weighted_rows<C, false>(acc, weights, rows, stride, lane, seen);
    else accumulate_weighted_rows<C, true>(acc, weights, rows, stride, lane, seen);
}

/// Keys [first_key, first_key + count) of (b, kv head) into k_tile and v_tile (rows of `stride` float4s), one
/// warp per key; zeros past the end and for empty slots.
C2F_DEVICE void stage_key_block(const Geometry& g, const float* k, const float* v, const int* key_positions,
    int b, int kv_head, int first_key, int count, float* k_tile, float* v_tile, int stride)
{
    for (int j = threadIdx.x / 32; j < count; j += kWarps)
    {
        const int key = first_key + j;
        const bool present = g.key_position(key_positions, b, key) >= 0;
        const size_t offset = present ? g.key_offset(b, key, kv_head) : 0;
        copy_row(k_tile + j * 4 * stride, present ? k + offset : nullptr, stride, g.head_dim);
        copy_row(v_tile + j * 4 * stride, present ? v + offset : nullptr, stride, g.head_dim);
    }
}

/// Rows [first_row, first_row + count) of a q-shaped tensor of (b, kv head) into a shared tile, one warp per row.
C2F_DEVICE void stage_query_rows(const Geometry& g, const float* tensor, int b, int kv_head, int first_row, int count,
    float* tile, int stride)
{
    for (int r = threadIdx.x / 32; r < count; r += kWarps)
    {
        const int row = first_row + r;
        copy_row(tile + r * 4 * stride, row < g.rows() ? tensor + g.query_offset(b, row, kv_head) : nullptr, stride, g.head_dim);
    }
}

/// The block's tile of the forward and of dq: kQueryTile rows (queries × the heads of one kv head's group) of batch
/// b, the last tiles first (under a causal mask they see the most keys), and this thread's warp, lane and rows.
struct QueryTile
{
    int warp, lane, b, kv_head, first_row;
    PositionRange positions;     // of the whole tile: which key blocks it may see
    int position[kRowsPerWarp];  // of this warp's rows

    C2F_DEVICE QueryTile(const Geometry& g, const int* query_positions)
        : warp(threadIdx.x / 32), lane(threadIdx.x % 32), b(blockIdx.y / g.kv_heads), kv_head(blockIdx.y % g.kv_heads),
          first_row((gridDim.x - 1 - blockIdx.x) * kQueryTile),
          positions(PositionRange::of_lanes(lane < kQueryTile ? g.row_position(query_positions, b, first_row + lane) : -1))
    {
        #pragma unroll
        for (int r = 0; r < kRowsPerWarp; r++) position[r] = g.row_position(query_positions, b, row(r));
    }

    C2F_DEVICE int row(int r) const { return first_row + warp * kRowsPerWarp + r; }

    /// Stages the key block at first_key into k_tile and v_tile unless no query of the tile can see it (a skip
    /// uniform over the block), and marks which of this warp's rows see the lane's key; false when the warp's rows
    /// see none of the block.
    C2F_DEVICE bool visit(const Geometry& g, const float* k, const float* v, const int* key_positions, int first_key,
        float* k_tile, float* v_tile, int ks, bool (&visible)[kRowsPerWarp]) const
    {
        const int key_position = g.key_position(key_positions, b, first_key + lane);
        if (!positions.may_see(PositionRange::of_lanes(key_position), g.window)) return false;
        __syncthreads(); // the previous block's tiles are read
        stage_key_block(g, k, v, key_positions, b, kv_head, first_key, kKeyBlock, k_tile, v_tile, ks);
        __syncthreads();
        bool any = false;
        #pragma unroll
        for (int r = 0; r < kRowsPerWarp; r++) any |= visible[r] = is_visible(position[r], key_position, g.window);
        return __any_sync(0xffffffffu, any);
    }
};

/// dO·O of a row (lanes over the dimensions; every lane gets the sum): softmax's backward needs dp − δ.
C2F_DEVICE float row_delta(const Geometry& g, const float* output, const float* output_grad, size_t offset)
{
    float sum = 0.0f;
    for (int dim = threadIdx.x % 32; dim < g.head_dim; dim += 32) sum = fmaf(output[offset + dim], output_grad[offset + dim], sum);
    return warp_sum(sum);
}

// ---- forward ---------------------------------------------------------------------------------------------
//
// Grid (query tiles, B·Hkv). Per key block: every warp derives the block's position range from global memory
// (the same for all warps, so skipping is uniform), the block stages K and V, then each warp scores its rows
// against the 32 keys (lane j: key j), updates the online softmax (row max by shuffles; each lane keeps a
// partial row sum, reduced once at the end) and accumulates p·V with lane-owned dimensions, reading p from a
// warp-private shared tile as float4 broadcasts.
// Shared floats: Q kQueryTile × 4·stride_b, K and V kKeyBlock × 4·stride_l each, p kWarps × kRowsPerWarp × 32.

struct ForwardArgs
{
    const float* q; const float* k; const float* v; const int* query_positions; const int* key_positions;
    float* output; float* log_sum_exp;
    Geometry g;
};

struct Forward
{
    const ForwardArgs& a;
    float* shared;

    template <int C>
    C2F_DEVICE void run()
    {
        const Geometry& g = a.g;
        const QueryTile t(g, a.query_positions);
        const int warp = t.warp, lane = t.lane;
        const int qs = g.broadcast_stride(), ks = g.lane_stride();
        float* q_tile = shared;
        float* k_tile = q_tile + kQueryTile * 4 * qs;
        float* v_tile = k_tile + kKeyBlock * 4 * ks;
        float* p_tile = v_tile + kKeyBlock * 4 * ks + warp * kRowsPerWarp * 32;

        stage_query_rows(g, a.q, t.b, t.kv_head, t.first_row, kQueryTile, q_tile, qs);
        float row_max[kRowsPerWarp], partial_sum[kRowsPerWarp], acc[kRowsPerWarp][C];
        #pragma unroll
        for (int r = 0; r < kRowsPerWarp; r++)
        {
            row_max[r] = -INFINITY;
            partial_sum[r] = 0.0f;
            #pragma unroll
            for (int c = 0; c < C; c++) acc[r][c] = 0.0f;
        }
        const float scale_log2 = g.scale * kLog2E;

        for (int first_key = 0; first_key < g.key_length; first_key += kKeyBlock)
        {
            bool visible[kRowsPerWarp];
            if (!t.visit(g, a.k, a.v, a.key_positions, first_key, k_tile, v_tile, ks, visible)) continue;

            float score[kRowsPerWarp] = {};
            const float4* key = as_float4(k_tile) + lane * ks;
            const float4* query = as_float4(q_tile) + warp * kRowsPerWarp * qs;
            #pragma unroll 1
            for (int i = 0; i < g.float4s(); i++)
            {
                float4 kx = key[i];
                #pragma unroll
                for (int r = 0; r < kRowsPerWarp; r++) score[r] = dot4(query[r * qs + i], kx, score[r]);
            }
            #pragma unroll
            for (int r = 0; r < kRowsPerWarp; r++)
            {
                float s = visible[r] ? score[r] * scale_log2 : -INFINITY;
                float new_max = c2f::max_nan(row_max[r], warp_max(s));
                float p = visible[r] ? exp2f(s - new_max) : 0.0f;
                float correction = row_max[r] == -INFINITY ? 0.0f : exp2f(row_max[r] - new_max);
                row_max[r] = new_max;
                partial_sum[r] = fmaf(partial_sum[r], correction, p);
                #pragma unroll
                for (int c = 0; c < C; c++) acc[r][c] *= correction;
                p_tile[r * 32 + lane] = p;
            }
            __syncwarp();

            accumulate_visible_rows(acc, p_tile, v_tile, ks, lane, visible);
            __syncwarp(); // p is read before the next block writes it
        }

        #pragma unroll
        for (int r = 0; r < kRowsPerWarp; r++)
        {
            const int row = t.row(r);
            // A row that saw no key has a sum of exactly 0 (a seen key adds 2⁰ = 1 at the row's max): zeros and
            // −inf. A NaN sum (a NaN score or value it saw) gives NaN.
            const float sum = warp_sum(partial_sum[r]);
            if (row >= g.rows()) continue;
            float* out = a.output + g.query_offset(t.b, row, t.kv_head);
            #pragma unroll
            for (int c = 0; c < C; c++)
            {
                int dim = lane + 32 * c;
                if (dim < g.head_dim) out[dim] = sum != 0.0f ? acc[r][c] / sum : 0.0f;
            }
            if (a.log_sum_exp != nullptr && lane == 0)
                a.log_sum_exp[g.stats_index(t.b, row, t.kv_head)] = sum != 0.0f ? (row_max[r] + log2f(sum)) * kLn2 : -INFINITY;
        }
    }
};

// ---- backward: dq ----------------------------------------------------------------------------------------
//
// As the forward, over the same tiles: per visible key block each lane recomputes p = 2^(s·scale·log2 e −
// lse·log2 e) and dp = dO·v for its key, ds = p·(dp − δ)·scale goes to a warp-private shared tile, and the
// lanes accumulate dq += ds·K over their dimensions; δ = dO·O per row is computed at the start.
// Shared floats: Q and dO kQueryTile × 4·stride_b each, K and V kKeyBlock × 4·stride_l each, ds kWarps ×
// kRowsPerWarp × 32.

struct BackwardArgs
{
    const float* q; const float* k; const float* v; const int* query_positions; const int* key_positions;
    const float* output; const float* log_sum_exp; const float* output_grad;
    float* query_grad; float* key_grad; float* value_grad;
    Geometry g;
};

/// The saved log-sum-exp of a row in the exp2 domain, or +inf for a row that saw nothing (p = 0 then).
C2F_DEVICE float lse_log2(const BackwardArgs& a, int b, int row, int kv_head)
{
    float lse = row < a.g.rows() ? a.log_sum_exp[a.g.stats_index(b, row, kv_head)] : -INFINITY;
    return lse == -INFINITY ? INFINITY : lse * kLog2E;
}

struct QueryGrad
{
    const BackwardArgs& a;
    float* shared;

    template <int C>
    C2F_DEVICE void run()
    {
        const Geometry& g = a.g;
        const QueryTile t(g, a.query_positions);
        const int warp = t.warp, lane = t.lane;
        const int qs = g.broadcast_stride(), ks = g.lane_stride();
        float* q_tile = shared;
        float* do_tile = q_tile + kQueryTile * 4 * qs;
        float* k_tile = do_tile + kQueryTile * 4 * qs;
        float* v_tile = k_tile + kKeyBlock * 4 * ks;
        float* ds_tile = v_tile + kKeyBlock * 4 * ks + warp * kRowsPerWarp * 32;

        stage_query_rows(g, a.q, t.b, t.kv_head, t.first_row, kQueryTile, q_tile, qs);
        stage_query_rows(g, a.output_grad, t.b, t.kv_head, t.first_row, kQueryTile, do_tile, qs);
        float lse[kRowsPerWarp], delta[kRowsPerWarp], acc[kRowsPerWarp][C];
        #pragma unroll
        for (int r = 0; r < kRowsPerWarp; r++)
        {
            const int row = t.row(r);
            lse[r] = lse_log2(a, t.b, row, t.kv_head);
            delta[r] = row < g.rows() ? row_delta(g, a.output, a.output_grad, g.query_offset(t.b, row, t.kv_head)) : 0.0f;
            #pragma unroll
            for (int c = 0; c < C; c++) acc[r][c] = 0.0f;
        }
        const float scale_log2 = g.scale * kLog2E;

        for (int first_key = 0; first_key < g.key_length; first_key += kKeyBlock)
        {
            bool visible[kRowsPerWarp];
            if (!t.visit(g, a.k, a.v, a.key_positions, first_key, k_tile, v_tile, ks, visible)) continue;

            float score[kRowsPerWarp] = {}, dp[kRowsPerWarp] = {};
            const float4* key = as_float4(k_tile) + lane * ks;
            const float4* value = as_float4(v_tile) + lane * ks;
            const float4* query = as_float4(q_tile) + warp * kRowsPerWarp * qs;
            const float4* grad = as_float4(do_tile) + warp * kRowsPerWarp * qs;
            #pragma unroll 1
            for (int i = 0; i < g.float4s(); i++)
            {
                float4 kx = key[i], vx = value[i];
                #pragma unroll
                for (int r = 0; r < kRowsPerWarp; r++)
                {
                    score[r] = dot4(query[r * qs + i], kx, score[r]);
                    dp[r] = dot4(grad[r * qs + i], vx, dp[r]);
                }
            }
            #pragma unroll
            for (int r = 0; r < kRowsPerWarp; r++)
            {
                float p = visible[r] ? exp2f(fmaf(score[r], scale_log2, -lse[r])) : 0.0f;
                ds_tile[r * 32 + lane] = visible[r] ? p * (dp[r] - delta[r]) * g.scale : 0.0f;
            }
            __syncwarp();

            accumulate_visible_rows(acc, ds_tile, k_tile, ks, lane, visible);
            __syncwarp();
        }

        #pragma unroll
        for (int r = 0; r < kRowsPerWarp; r++)
        {
            const int row = t.row(r);
            if (row >= g.rows()) continue;
            float* dq = a.query_grad + g.query_offset(t.b, row, t.kv_head);
            #pragma unroll
            for (int c = 0; c < C; c++)
            {
                int dim = lane + 32 * c;
                if (dim < g.head_dim) dq[dim] += acc[r][c];
            }
        }
    }
};

// ---- backward: dk, dv ------------------------------------------------------------------------------------
//
// Grid (key tiles, B·Hkv): a block owns kKeyTile keys of one kv head and streams the rows of every query
// head of its group in tiles of 32, so a kv head's gradient sums its query heads in one block (no atomics;
// the result does not depend on scheduling). Per row tile: the block stages Q and dO (lane-strided) and each
// warp computes δ for 8 rows; then warp w scores its 4 keys against the 32 rows (lane r: row r), writes p
// and ds to warp-private tiles, and the lanes accumulate dv += p·dO and dk += ds·Q over their dimensions.
// Shared floats: Q and dO kRowTile × 4·stride_l each, K and V kKeyTile × 4·stride_b each, p and ds
// kWarps × kKeysPerWarp × 32 each, δ kRowTile.

struct KeyValueGrad
{
    const BackwardArgs& a;
    float* shared;

    template <int C>
    C2F_DEVICE void run()
    {
        const Geometry& g = a.g;
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
        const int b = blockIdx.y / g.kv_heads, kv_head = blockIdx.y % g.kv_heads;
        const int first_key = blockIdx.x * kKeyTile;
        const int rs = g.lane_stride(), ks = g.broadcast_stride();
        float* q_tile = shared;
        float* do_tile = q_tile + kRowTile * 4 * rs;
        float* k_tile = do_tile + kRowTile * 4 * rs;
        float* v_tile = k_tile + kKeyTile * 4 * ks;
        float* p_tile = v_tile + kKeyTile * 4 * ks + warp * kKeysPerWarp * 32;
        float* ds_tile = v_tile + kKeyTile * 4 * ks + (kWarps + warp) * kKeysPerWarp * 32;
        float* delta_tile = v_tile + kKeyTile * 4 * ks + 2 * kWarps * kKeysPerWarp * 32;

        stage_key_block(g, a.k, a.v, a.key_positions, b, kv_head, first_key, kKeyTile, k_tile, v_tile, ks);
        const PositionRange keys = PositionRange::of_lanes(lane < kKeyTile ? g.key_position(a.key_positions, b, first_key + lane) : -1);
        int key_position[kKeysPerWarp];
        float dk[kKeysPerWarp][C], dv[kKeysPerWarp][C];
        #pragma unroll
        for (int kk = 0; kk < kKeysPerWarp; kk++)
        {
            key_position[kk] = g.key_position(a.key_positions, b, first_key + warp * kKeysPerWarp + kk);
            #pragma unroll
            for (int c = 0; c < C; c++) dk[kk][c] = dv[kk][c] = 0.0f;
        }
        const float scale_log2 = g.scale * kLog2E;

        for (int first_row = 0; first_row < g.rows(); first_row += kRowTile)
        {
            const int row = first_row + lane, position = g.row_position(a.query_positions, b, row);
            if (!PositionRange::of_lanes(position).may_see(keys, g.window)) continue;
            __syncthreads(); // the previous tile is read
            stage_query_rows(g, a.q, b, kv_head, first_row, kRowTile, q_tile, rs);
            stage_query_rows(g, a.output_grad, b, kv_head, first_row, kRowTile, do_tile, rs);
            for (int r = warp; r < kRowTile; r += kWarps)
            {
                const int delta_row = first_row + r;
                float delta = delta_row < g.rows() ? row_delta(g, a.output, a.output_grad, g.query_offset(b, delta_row, kv_head)) : 0.0f;
                if (lane == 0) delta_tile[r] = delta;
            }
            __syncthreads();

            bool visible[kKeysPerWarp], any = false;
            #pragma unroll
            for (int kk = 0; kk < kKeysPerWarp; kk++) any |= visible[kk] = is_visible(position, key_position[kk], g.window);
            if (!__any_sync(0xffffffffu, any)) continue;

            float score[kKeysPerWarp] = {}, dp[kKeysPerWarp] = {};
            const float4* query = as_float4(q_tile) + lane * rs;
            const float4* grad = as_float4(do_tile) + lane * rs;
            const float4* key = as_float4(k_tile) + warp * kKeysPerWarp * ks;
            const float4* value = as_float4(v_tile) + warp * kKeysPerWarp * ks;
            #pragma unroll 1
            for (int i = 0; i < g.float4s(); i++)
            {
                float4 qx = query[i], gx = grad[i];
                #pragma unroll
                for (int kk = 0; kk < kKeysPerWarp; kk++)
                {
                    score[kk] = dot4(qx, key[kk * ks + i], score[kk]);
                    dp[kk] = dot4(gx, value[kk * ks + i], dp[kk]);
                }
            }
            const float lse = lse_log2(a, b, row, kv_head), delta = delta_tile[lane];
            #pragma unroll
            for (int kk = 0; kk < kKeysPerWarp; kk++)
            {
                float p = visible[kk] ? exp2f(fmaf(score[kk], scale_log2, -lse)) : 0.0f;
                p_tile[kk * 32 + lane] = p;
                ds_tile[kk * 32 + lane] = visible[kk] ? p * (dp[kk] - delta) * g.scale : 0.0f;
            }
            __syncwarp();

            accumulate_visible_rows(dv, p_tile, do_tile, rs, lane, visible);
            accumulate_visible_rows(dk, ds_tile, q_tile, rs, lane, visible);
            __syncwarp();
        }

        #pragma unroll
        for (int kk = 0; kk < kKeysPerWarp; kk++)
        {
            const int key = first_key + warp * kKeysPerWarp + kk;
            if (key >= g.key_length) continue;
            const size_t offset = g.key_offset(b, key, kv_head);
            #pragma unroll
            for (int c = 0; c < C; c++)
            {
                int dim = lane + 32 * c;
                if (dim >= g.head_dim) continue;
                a.key_grad[offset + dim] += dk[kk][c];
                a.value_grad[offset + dim] += dv[kk][c];
            }
        }
    }
};

} // namespace c2f_attention

// Entry points per head-dimension bucket (each with its own register budget): dN serves D <= N, N = 32·C.
#define C2F_ATTENTION_GEOMETRY Geometry{batch, query_length, key_length, query_heads, kv_heads, head_dim, window, scale}
#define C2F_ATTENTION_SIZES int batch, int query_length, int key_length, int query_heads, int kv_heads, int head_dim, int window, float scale

#define C2F_ATTENTION_F32_KERNELS(N, C)                                                                                     \
    extern "C" __global__ void __launch_bounds__(c2f_attention::kThreads, c2f_attention::kMinBlocks)                             \
    c2f_attention_forward_d##N##_f32(const float* q, const float* k, const float* v, const int* query_positions,             \
        const int* key_positions, float* output, float* log_sum_exp, C2F_ATTENTION_SIZES)                                  \
    {                                                                                                                       \
        C2F_DYNAMIC_SHARED(float, shared);                                                                                  \
        const c2f_attention::ForwardArgs args{q, k, v, query_positions, key_positions, output, log_sum_exp,                 \
            C2F_ATTENTION_GEOMETRY};                                                                                        \
        c2f_attention::Forward{args, shared}.run<C>();                                                                      \
    }                                                                                                                       \
    C2F_REGISTER_KERNEL(c2f_attention_forward_d##N##_f32);                                                                  \
                                                                                                                            \
    extern "C" __global__ void __launch_bounds__(c2f_attention::kThreads, c2f_attention::kMinBlocks)                             \
    c2f_attention_backward_query_d##N##_f32(const float* q, const float* k, const float* v, const int* query_positions,      \
        const int* key_positions, const float* output, const float* log_sum_exp, const float* output_grad,                  \
        float* query_grad, C2F_ATTENTION_SIZES)                                                                             \
    {                                                                                                                       \
        C2F_DYNAMIC_SHARED(float, shared);                                                                                  \
        const c2f_attention::BackwardArgs args{q, k, v, query_positions, key_positions, output, log_sum_exp, output_grad,   \
            query_grad, nullptr, nullptr, C2F_ATTENTION_GEOMETRY};                                                          \
        c2f_attention::QueryGrad{args, shared}.run<C>();                                                                    \
    }                                                                                                                       \
    C2F_REGISTER_KERNEL(c2f_attention_backward_query_d##N##_f32);                                                           \
                                                                                                                            \
    extern "C" __global__ void __launch_bounds__(c2f_attention::kThreads, c2f_attention::kMinBlocks)                             \
    c2f_attention_backward_key_value_d##N##_f32(const float* q, const float* k, const float* v, const int* query_positions,  \
        const int* key_positions, const float* output, const float* log_sum_exp, const float* output_grad,                  \
        float* key_grad, float* value_grad, C2F_ATTENTION_SIZES)                                                            \
    {                                                                                                                       \
        C2F_DYNAMIC_SHARED(float, shared);                                                                                  \
        const c2f_attention::BackwardArgs args{q, k, v, query_positions, key_positions, output, log_sum_exp, output_grad,   \
            nullptr, key_grad, value_grad, C2F_ATTENTION_GEOMETRY};                                                         \
        c2f_attention::KeyValueGrad{args, shared}.run<C>();                                                                 \
    }                                                                                                                       \
    C2F_REGISTER_KERNEL(c2f_attention_backward_key_value_d##N##_f32)

using c2f_attention::Geometry;

// Forward: output [B, Sq, Hq·D] and, when log_sum_exp is not null, the log-sum-exp [B, Hq, Sq] (-inf and a zero
// output for a query that sees no key); window 0 = none; scale = 1/sqrt(D). Grid (ceil(Sq·G / 16), B·Hkv).
// Backward, query part: dq += dL/dq, grid as the forward. Key/value part: dk += dL/dk and dv += dL/dv, each
// kv head summing its query heads, grid (ceil(Sk / 16), B·Hkv). 128 threads each; the dynamic shared memory
// of each is listed above its body.
C2F_ATTENTION_F32_KERNELS(32, 1);
C2F_ATTENTION_F32_KERNELS(64, 2);
C2F_ATTENTION_F32_KERNELS(128, 4);
C2F_ATTENTION_F32_KERNELS(256, 8);
