// float32 GEMM on the CUDA cores: C = op(A)·op(B), or C += op(A)·op(B), row-major, op = transpose on request,
// the contract of Backend.MatMul. Any M, N, K ≥ 1; the pointers need only 4-byte alignment (tensors may be
// row views), so global memory is read one float at a time.
//
// Each block computes a TileM × TileN tile of C, one thread an 8 × 8 micro-tile of it (two 4 × 4 quadrants
// half a tile apart, so that the shared-memory reads are float4 and conflict-free). K advances in slices of
// 8: the next slice is fetched into registers while the current one is multiplied out of shared memory, then
// stored into the other of two shared buffers, so one barrier per slice suffices. Accumulation is float32.
#include "c2f/cuda.cuh"

namespace {

constexpr int kSliceK = 8;
constexpr int kMicroTile = 8;
// Pads each shared row by one float4: the transposing stores of K-contiguous operands then fall on
// distinct banks, and float4 reads stay 16-byte aligned.
constexpr int kPad = 4;

/// One operand of the product as TileRows × kSliceK slices: rows are m for A and n for B. The operand is
/// stored either as [rows, K] (K contiguous: A, or B transposed) or as [K, rows] (A transposed, or B); the
/// layout is a run-time choice, as it changes only which way each thread's elements lie. Consecutive threads
/// read consecutive addresses; a thread's elements lie `step` apart in memory.
template <int TileRows, int Threads>
class SimtSlice
{
public:
    static constexpr int kPerThread = TileRows * kSliceK / Threads;
    static_assert(Threads % TileRows == 0 && Threads % kSliceK == 0, "whole rows of the slice per thread group");

    C2F_DEVICE SimtSlice(const float* x, int rows, int k_total, bool k_contiguous, int row0)
    {
        const int t = threadIdx.x;
        const int row = k_contiguous ? t / kSliceK : t % TileRows, k = k_contiguous ? t % kSliceK : t / TileRows;
        row_step_ = k_contiguous ? Threads / kSliceK : 0;
        k_step_ = k_contiguous ? 0 : Threads / TileRows;
        rows_left_ = rows - row0 - row;
        k_left_ = k_total - k;
        store_first_ = k * (TileRows + kPad) + row;
        const long long row_stride = k_contiguous ? k_total : 1, k_stride = k_contiguous ? 1 : rows;
        step_ = row_step_ * row_stride + k_step_ * k_stride;
        advance_ = kSliceK * k_stride;
        next_ = x + (row0 + row) * row_stride + k * k_stride;
    }

    /// This thread's elements of the next slice (zero outside the operand); k0 is where that slice starts.
    C2F_DEVICE void fetch_next(float (&staged)[kPerThread], int k0)
    {
#pragma unroll
        for (int i = 0; i < kPerThread; i++)
        {
            const bool inside = row_step_ * i < rows_left_ && k0 + k_step_ * i < k_left_;
            staged[i] = inside ? next_[i * step_] : 0.0f;
        }
        next_ += advance_;
    }

    /// Writes them k-major, the layout the micro-tiles read as float4.
    C2F_DEVICE void store(float (*slice)[TileRows + kPad], const float (&staged)[kPerThread]) const
    {
        float* first = &slice[0][0] + store_first_;
        const int store_step = k_step_ * (TileRows + kPad) + row_step_;
#pragma unroll
        for (int i = 0; i < kPerThread; i++) first[i * store_step] = staged[i];
    }

private:
    const float* next_;
    long long step_, advance_;
    int rows_left_, k_left_, store_first_, row_step_, k_step_;
};

template <int TileM, int TileN>
C2F_DEVICE void simt_gemm(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c,
                          int m, int n, int k, bool transpose_a, bool transpose_b, bool accumulate)
{
    constexpr int kThreads = (TileM / kMicroTile) * (TileN / kMicroTile);

    __shared__ __align__(16) float shared_a[2][kSliceK][TileM + kPad];
    __shared__ __align__(16) float shared_b[2][kSliceK][TileN + kPad];

    const int tx = threadIdx.x % (TileN / kMicroTile), ty = threadIdx.x / (TileN / kMicroTile);
    const int m0 = blockIdx.y * TileM, n0 = blockIdx.x * TileN;
    SimtSlice<TileM, kThreads> slice_a(a, m, k, !transpose_a, m0);
    SimtSlice<TileN, kThreads> slice_b(b, n, k, transpose_b, n0);

    float staged_a[slice_a.kPerThread], staged_b[slice_b.kPerThread];
    slice_a.fetch_next(staged_a, 0);
    slice_b.fetch_next(staged_b, 0);
    slice_a.store(shared_a[0], staged_a);
    slice_b.store(shared_b[0], staged_b);
    __syncthreads();

    float acc[kMicroTile][kMicroTile] = {};
    const int slices = (k + kSliceK - 1) / kSliceK;
    for (int s = 0; s < slices; s++)
    {
        const int buffer = s & 1;
        const bool more = s + 1 < slices;
        if (more)
        {
            slice_a.fetch_next(staged_a, (s + 1) * kSliceK);
            slice_b.fetch_next(staged_b, (s + 1) * kSliceK);
        }
#pragma unroll
        for (int kk = 0; kk < kSliceK; kk++)
        {
            const float4 a_low = *reinterpret_cast<const float4*>(&shared_a[buffer][kk][ty * 4]);
            const float4 a_high = *reinterpret_cast<const float4*>(&shared_a[buffer][kk][ty * 4 + TileM / 2]);
            const float4 b_low = *reinterpret_cast<const float4*>(&shared_b[buffer][kk][tx * 4]);
            const float4 b_high = *reinterpret_cast<const float4*>(&shared_b[buffer][kk][tx * 4 + TileN / 2]);
            const float av[kMicroTile] = {a_low.x, a_low.y, a_low.z, a_low.w, a_high.x, a_high.y, a_high.z, a_high.w};
            const float bv[kMicroTile] = {b_low.x, b_low.y, b_low.z, b_low.w, b_high.x, b_high.y, b_high.z, b_high.w};
#pragma unroll
            for (int i = 0; i < kMicroTile; i++)
#pragma unroll
                for (int j = 0; j < kMicroTile; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        if (more)
        {
            slice_a.store(shared_a[buffer ^ 1], staged_a);
            slice_b.store(shared_b[buffer ^ 1], staged_b);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < kMicroTile; i++)
    {
        const int row = m0 + ty * 4 + (i % 4) + (i / 4) * (TileM / 2);
        if (row >= m) continue;
#pragma unroll
        for (int j = 0; j < kMicroTile; j++)
        {
            const int column = n0 + tx * 4 + (j % 4) + (j / 4) * (TileN / 2);
            if (column >= n) continue;
            float* out = c + (long long)row * n + column;
            *out = accumulate ? *out + acc[i][j] : acc[i][j];
        }
    }
}

}  // namespace

/// C[m, n] (+)= op(A)·op(B) with 128 × 128 tiles: block (256), grid (⌈n/128⌉, ⌈m/128⌉). A is [m, k], or [k, m]
/// when transpose_a; B is [k, n], or [n, k] when transpose_b; C is read only when accumulate is nonzero.
extern "C" __global__ void __launch_bounds__(256, 2)
c2f_gemm_simt128_f32(const float* a, const float* b, float* c, int m, int n, int k,
                     int transpose_a, int transpose_b, int accumulate)
{
    simt_gemm<128, 128>(a, b, c, m, n, k, transpose_a != 0, transpose_b != 0, accumulate != 0);
}
C2F_REGISTER_KERNEL(c2f_gemm_simt128_f32);

/// As c2f_gemm_simt128_f32 with 64 × 64 tiles: block (64), grid (⌈n/64⌉, ⌈m/64⌉), for products too small to
/// fill the device with 128 × 128 tiles.
extern "C" __global__ void __launch_bounds__(64)
c2f_gemm_simt64_f32(const float* a, const float* b, float* c, int m, int n, int k,
                    int transpose_a, int transpose_b, int accumulate)
{
    simt_gemm<64, 64>(a, b, c, m, n, k, transpose_a != 0, transpose_b != 0, accumulate != 0);
}
C2F_REGISTER_KERNEL(c2f_gemm_simt64_f32);
