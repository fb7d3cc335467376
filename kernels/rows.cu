// Row moves by index: the embedding lookup (gather), KV-cache writes (scatter) and the embedding backward
// (scatter-add). A block owns a row at a time and its threads sweep the columns in 16-byte vectors (or
// scalars when the rows are off a 16-byte boundary). Index -1 means "no row"; any other index outside the
// table is reported in the fault record (c2f::report_fault) and its row left untouched.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

using c2f::bf16;

namespace {

/// Copies (or, with Add, adds) row `from` of src to row `to` of dst; a null `from` writes zeros.
template <bool Add, typename T>
C2F_DEVICE void move_row(const T* from, T* to, int width)
{
    const c2f::VectorSplit s = from ? c2f::split_range(width, from, to) : c2f::split_range(width, to);
    c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
        constexpr int N = decltype(w)::value;
        float v[N] = {};
        if (from) c2f::load<N>(from + i, v);
        if constexpr (Add) {
#pragma unroll
            for (int k = 0; k < N; k++) atomicAdd(to + i + k, v[k]);
        } else {
            c2f::store<N>(to + i, v);
        }
    });
}

// dst[i] = src[indices[i]]; -1 writes zeros.
template <typename T>
C2F_DEVICE void gather(const T* __restrict__ src, const int* __restrict__ indices, T* __restrict__ dst, int rows, int width,
                       int source_rows, int* fault)
{
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const int index = indices[row];
        if (index < -1 || index >= source_rows) {
            if (threadIdx.x == 0) c2f::report_fault(fault, c2f::GatherRowIndex, index, source_rows);
            continue;
        }
        move_row<false>(index == -1 ? nullptr : src + (long long)index * width, dst + (long long)row * width, width);
    }
}

// dst[indices[i]] (+)= src[i]; -1 skips.
template <bool Add>
C2F_DEVICE void scatter(const float* __restrict__ src, const int* __restrict__ indices, float* __restrict__ dst, int rows,
                        int width, int destination_rows, int* fault)
{
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const int index = indices[row];
        if (index == -1) continue;
        if (index < 0 || index >= destination_rows) {
            if (threadIdx.x == 0)
                c2f::report_fault(fault, Add ? c2f::ScatterAddRowIndex : c2f::ScatterRowIndex, index, destination_rows);
            continue;
        }
        move_row<Add>(src + (long long)row * width, dst + (long long)index * width, width);
    }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(256)
c2f_rows_gather_f32(const float* src, const int* indices, float* dst, int rows, int width, int source_rows, int* fault)
{
    gather(src, indices, dst, rows, width, source_rows, fault);
}
C2F_REGISTER_KERNEL(c2f_rows_gather_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_rows_gather_bf16(const bf16* src, const int* indices, bf16* dst, int rows, int width, int source_rows, int* fault)
{
    gather(src, indices, dst, rows, width, source_rows, fault);
}
C2F_REGISTER_KERNEL(c2f_rows_gather_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_rows_scatter_f32(const float* src, const int* indices, float* dst, int rows, int width, int destination_rows, int* fault)
{
    scatter<false>(src, indices, dst, rows, width, destination_rows, fault);
}
C2F_REGISTER_KERNEL(c2f_rows_scatter_f32);

/// Repeated indices add with float atomics, so their order (and the last bits of the sum) may vary.
extern "C" __global__ void __launch_bounds__(256)
c2f_rows_scatter_add_f32(const float* src, const int* indices, float* dst, int rows, int width, int destination_rows,
                         int* fault)
{
    scatter<true>(src, indices, dst, rows, width, destination_rows, fault);
}
C2F_REGISTER_KERNEL(c2f_rows_scatter_add_f32);
