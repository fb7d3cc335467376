// bf16 GEMM on the tensor cores for the model's projections: C = op(A)·op(B), or C += op(A)·op(B), A and B
// bf16, float32 accumulation, C float32 or bf16, row-major. Three cases, named by the transposes applied:
//   NT  C[M,N] = A[M,K]·B[N,K]ᵀ   forward x·Wᵀ
//   NN  C[M,N] = A[M,K]·B[K,N]    backward to the inputs, dY·W
//   TN  C[M,N] = A[K,M]ᵀ·B[K,N]   weight gradient, dYᵀ·X
// Any M, N, K ≥ 1 and any 2-byte aligned pointers. The fast path copies 16-byte chunks (8 bf16) with cp.async
// and needs each operand 16-byte aligned with its row length (its contiguous dimension: K for A in NT/NN and
// for B in NT, M for A in TN, N for B in NN/TN) a multiple of 8; an operand that is not is read element by
// element instead (correct, much slower). Edges of the product are zero-filled, so nothing is rounded up.
//
// Design (an H100 / A100 mma.sync kernel): 128 × 128 block tile, K in steps of 32 through a 4-stage cp.async
// pipeline (16 KiB per stage, 64 KiB of dynamic shared memory); 4 warps in a 2 × 2 grid, each owning a 64 × 64
// warp tile, i.e. 4 × 8 mma.m16n8k16 per 16 of K fed by 4 + 4 ldmatrix.x4. Shared tiles are XOR-swizzled in
// 16-byte chunks so that both the cp.async stores and the ldmatrix reads are free of bank conflicts. Blocks are
// ordered in groups of 8 block rows so that concurrently running blocks share A and B panels in L2.
#include "c2f/cuda.cuh"

namespace {

constexpr int kTile = 128;           // rows of C (m) and columns of C (n) per block
constexpr int kTileK = 32;           // k per pipeline stage
constexpr int kStages = 4;
constexpr int kWarpTile = 64;        // a warp's m × n tile
constexpr int kWarpsPerSide = kTile / kWarpTile;
constexpr int kThreads = 32 * kWarpsPerSide * kWarpsPerSide;
constexpr int kChunk = 8;            // bf16 per 16-byte chunk
constexpr int kTileElements = kTile * kTileK;
constexpr int kChunksPerThread = kTileElements / kChunk / kThreads;
constexpr int kGroupRows = 8;        // block rows per rasterisation group

using bf16 = __nv_bfloat16;

/// Where element (row, k) of a 128 × 32 operand tile lies in shared memory; row is m for A and n for B.
/// A K-contiguous operand keeps the global layout, [row][k], 64-byte rows of 4 chunks, the chunk index XORed
/// with bits 1-2 of the row: any 8 consecutive rows read at one k then cover all 32 banks. A row-contiguous
/// operand is kept as [k][row], 256-byte rows of 16 chunks, the chunk index XORed with k mod 8, for the same
/// reason along k. ldmatrix reads the first layout as is and the second with .trans.
template <bool KContiguous>
C2F_DEVICE int swizzled(int row, int k)
{
    if (KContiguous) return row * kTileK + (((k / kChunk) ^ ((row >> 1) & 3)) * kChunk) + k % kChunk;
    return k * kTile + (((row / kChunk) ^ (k & 7)) * kChunk) + row % kChunk;
}

/// Copies the 128 × 32 tiles of one operand into pipeline stages. The operand is stored as [rows, K] when
/// KContiguous, else as [K, rows]; everything outside it reads as zero.
template <bool KContiguous>
class TileLoader
{
public:
    C2F_DEVICE TileLoader(const bf16* x, int rows, int k_total, int row0)
        : x_(x), rows_(rows), k_total_(k_total), row0_(row0)
    {
        const int row_length = KContiguous ? k_total : rows;
        vector_ = reinterpret_cast<uintptr_t>(x) % 16 == 0 && row_length % kChunk == 0;
    }

    C2F_DEVICE void load(bf16* stage, int k0) const
    {
#pragma unroll
        for (int i = 0; i < kChunksPerThread; i++)
        {
            // Consecutive threads take consecutive chunks of a global row: coalesced reads.
            const int chunk = threadIdx.x + kThreads * i;
            int row, k, valid;
            long long offset;
            if (KContiguous)
            {
                row = chunk / (kTileK / kChunk);
                k = chunk % (kTileK / kChunk) * kChunk;
                const int global_row = row0_ + row, global_k = k0 + k;
                offset = (long long)global_row * k_total_ + global_k;
                valid = global_row < rows_ ? min(max(k_total_ - global_k, 0), kChunk) : 0;
            }
            else
            {
                k = chunk / (kTile / kChunk);
                row = chunk % (kTile / kChunk) * kChunk;
                const int global_row = row0_ + row, global_k = k0 + k;
                offset = (long long)global_k * rows_ + global_row;
                valid = global_k < k_total_ ? min(max(rows_ - global_row, 0), kChunk) : 0;
            }
            bf16* destination = stage + swizzled<KContiguous>(row, k);
            if (vector_) c2f::cp_async_16_zfill(destination, valid > 0 ? x_ + offset : x_, valid * 2);
            else copy_elements(destination, x_ + offset, valid);
        }
    }

private:
    // The slow path for unaligned operands: a plain (synchronous) copy into the stage.
    static C2F_DEVICE void copy_elements(bf16* destination, const bf16* source, int valid)
    {
#pragma unroll
        for (int j = 0; j < kChunk; j++) destination[j] = j < valid ? source[j] : __float2bfloat16(0.0f);
    }

    const bf16* x_;
    int rows_, k_total_, row0_;
    bool vector_;
};

/// The A fragments (16 × 16, mma row layout) of a warp's 4 row blocks at k offset kk of a stage.
template <bool KContiguous>
C2F_DEVICE void load_a_fragments(uint32_t (&a)[kWarpTile / 16][4], const bf16* tile, int warp_row, int kk, int lane)
{
#pragma unroll
    for (int mi = 0; mi < kWarpTile / 16; mi++)
    {
        const int base = warp_row + mi * 16;
        if (KContiguous)  // matrices: rows 0-7 | 8-15 at k 0-7, then the same at k 8-15
            c2f::ldmatrix_x4(a[mi], tile + swizzled<true>(base + lane % 16, kk + lane / 16 * 8));
        else  // stored [k][m]: matrix i covers k 8·(i/2)… and m 8·(i%2)…, transposed on load
            c2f::ldmatrix_x4_trans(a[mi], tile + swizzled<false>(base + lane / 8 % 2 * 8, kk + lane % 8 + lane / 16 * 8));
    }
}

/// The B fragments (16 × 8, mma col layout) of a warp's 8 column blocks, two per ldmatrix.x4.
template <bool KContiguous>
C2F_DEVICE void load_b_fragments(uint32_t (&b)[kWarpTile / 8][2], const bf16* tile, int warp_column, int kk, int lane)
{
#pragma unroll
    for (int nj = 0; nj < kWarpTile / 16; nj++)
    {
        const int base = warp_column + nj * 16;
        uint32_t r[4];
        if (KContiguous)  // stored [n][k]: matrix i covers n 8·(i/2)… and k 8·(i%2)…
            c2f::ldmatrix_x4(r, tile + swizzled<true>(base + lane % 8 + lane / 16 * 8, kk + lane / 8 % 2 * 8));
        else  // stored [k][n]: the same matrices, transposed on load
            c2f::ldmatrix_x4_trans(r, tile + swizzled<false>(base + lane / 16 * 8, kk + lane % 8 + lane / 8 % 2 * 8));
        b[2 * nj][0] = r[0];
        b[2 * nj][1] = r[1];
        b[2 * nj + 1][0] = r[2];
        b[2 * nj + 1][1] = r[3];
    }
}

C2F_DEVICE float load_output(const float* p) { return *p; }
C2F_DEVICE float load_output(const bf16* p) { return __bfloat162float(*p); }
C2F_DEVICE void store_output(float* p, float value) { *p = value; }
C2F_DEVICE void store_output(bf16* p, float value) { *p = __float2bfloat16_rn(value); }

C2F_DEVICE void store_output_pair(float* p, float low, float high, bool accumulate)
{
    if (accumulate)
    {
        const float2 old = *reinterpret_cast<const float2*>(p);
        low += old.x;
        high += old.y;
    }
    *reinterpret_cast<float2*>(p) = make_float2(low, high);
}

C2F_DEVICE void store_output_pair(bf16* p, float low, float high, bool accumulate)
{
    if (accumulate)
    {
        const __nv_bfloat162 old = *reinterpret_cast<const __nv_bfloat162*>(p);
        low += __low2float(old);
        high += __high2float(old);
    }
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(low, high);
}

/// This block's tile (block_m, block_n): consecutive blocks walk down groups of kGroupRows block rows, column by
/// column, so that the blocks running at one time read few distinct panels of A and B.
C2F_DEVICE void block_tile(int m, int n, int& block_m, int& block_n)
{
    const int rows = (m + kTile - 1) / kTile, columns = (n + kTile - 1) / kTile;
    const int group = blockIdx.x / (kGroupRows * columns), first_row = group * kGroupRows;
    const int group_rows = min(rows - first_row, kGroupRows);
    const int within = blockIdx.x % (kGroupRows * columns);
    block_m = first_row + within % group_rows;
    block_n = within / group_rows;
}

template <bool TransposeA, bool TransposeB, class Out>
C2F_DEVICE void tensor_core_gemm(const bf16* __restrict__ a, const bf16* __restrict__ b, Out* __restrict__ c,
                                 int m, int n, int k, bool accumulate)
{
    constexpr bool kAContiguousK = !TransposeA, kBContiguousK = TransposeB;
    C2F_DYNAMIC_SHARED(bf16, shared);  // kStages × (A tile, B tile)

    int block_m, block_n;
    block_tile(m, n, block_m, block_n);
    const int m0 = block_m * kTile, n0 = block_n * kTile;
    const TileLoader<kAContiguousK> loader_a(a, m, k, m0);
    const TileLoader<kBContiguousK> loader_b(b, n, k, n0);
    auto stage_a = [&](int s) { return shared + s * 2 * kTileElements; };
    auto stage_b = [&](int s) { return shared + s * 2 * kTileElements + kTileElements; };

    const int k_tiles = (k + kTileK - 1) / kTileK;
#pragma unroll
    for (int s = 0; s < kStages - 1; s++)
    {
        if (s < k_tiles)
        {
            loader_a.load(stage_a(s), s * kTileK);
            loader_b.load(stage_b(s), s * kTileK);
        }
        c2f::cp_async_commit();
    }

    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int warp_row = warp / kWarpsPerSide * kWarpTile, warp_column = warp % kWarpsPerSide * kWarpTile;
    float acc[kWarpTile / 16][kWarpTile / 8][4] = {};

    for (int kt = 0; kt < k_tiles; kt++)
    {
        // Tile kt has landed, and every warp is done with tile kt - 1, whose stage the next load refills.
        c2f::cp_async_wait<kStages - 2>();
        __syncthreads();
        const int next = kt + kStages - 1;
        if (next < k_tiles)
        {
            loader_a.load(stage_a(next % kStages), next * kTileK);
            loader_b.load(stage_b(next % kStages), next * kTileK);
        }
        c2f::cp_async_commit();  // possibly empty, so that the wait above always counts kStages - 1 groups

        const bf16* tile_a = stage_a(kt % kStages);
        const bf16* tile_b = stage_b(kt % kStages);
#pragma unroll
        for (int kk = 0; kk < kTileK; kk += 16)
        {
            uint32_t fa[kWarpTile / 16][4], fb[kWarpTile / 8][2];
            load_a_fragments<kAContiguousK>(fa, tile_a, warp_row, kk, lane);
            load_b_fragments<kBContiguousK>(fb, tile_b, warp_column, kk, lane);
#pragma unroll
            for (int mi = 0; mi < kWarpTile / 16; mi++)
#pragma unroll
                for (int ni = 0; ni < kWarpTile / 8; ni++) c2f::mma_m16n8k16_bf16(acc[mi][ni], fa[mi], fb[ni], acc[mi][ni]);
        }
    }
    c2f::cp_async_wait<0>();

    // Accumulator (mi, ni) holds rows g and g + 8 (g = lane / 4), columns 2·(lane % 4) and + 1 of its 16 × 8 block.
    const bool paired = n % 2 == 0 && reinterpret_cast<uintptr_t>(c) % (2 * sizeof(Out)) == 0;
#pragma unroll
    for (int mi = 0; mi < kWarpTile / 16; mi++)
#pragma unroll
        for (int half = 0; half < 2; half++)
        {
            const int row = m0 + warp_row + mi * 16 + lane / 4 + half * 8;
            if (row >= m) continue;
#pragma unroll
            for (int ni = 0; ni < kWarpTile / 8; ni++)
            {
                const int column = n0 + warp_column + ni * 8 + lane % 4 * 2;
                Out* out = c + (long long)row * n + column;
                const float low = acc[mi][ni][2 * half], high = acc[mi][ni][2 * half + 1];
                if (paired && column + 1 < n) store_output_pair(out, low, high, accumulate);
                else
                {
                    if (column < n) store_output(out, accumulate ? load_output(out) + low : low);
                    if (column + 1 < n) store_output(out + 1, accumulate ? load_output(out + 1) + high : high);
                }
            }
        }
}

}  // namespace

// Launch: block (128), grid (⌈m/128⌉·⌈n/128⌉), 65536 bytes of dynamic shared memory (above the default 48 KiB
// limit). C is [m, n]; it is read only when accumulate is nonzero. The suffix names C's type.
#define C2F_GEMM_TENSOR_CORE(name, transpose_a, transpose_b, Out)                                              \
    extern "C" __global__ void __launch_bounds__(kThreads)                                                     \
    name(const bf16* a, const bf16* b, Out* c, int m, int n, int k, int accumulate)                            \
    {                                                                                                          \
        tensor_core_gemm<transpose_a, transpose_b, Out>(a, b, c, m, n, k, accumulate != 0);                    \
    }                                                                                                          \
    C2F_REGISTER_KERNEL(name)

C2F_GEMM_TENSOR_CORE(c2f_gemm_tc_nt_f32, false, true, float);
C2F_GEMM_TENSOR_CORE(c2f_gemm_tc_nn_f32, false, false, float);
C2F_GEMM_TENSOR_CORE(c2f_gemm_tc_tn_f32, true, false, float);
C2F_GEMM_TENSOR_CORE(c2f_gemm_tc_nt_bf16, false, true, bf16);
C2F_GEMM_TENSOR_CORE(c2f_gemm_tc_nn_bf16, false, false, bf16);
C2F_GEMM_TENSOR_CORE(c2f_gemm_tc_tn_bf16, true, false, bf16);
