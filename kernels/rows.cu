// Row moves by index: the embedding lookup (gather), KV-cache writes (scatter) and the embedding backward
// (scatter-add). For gather and scatter a block owns a row at a time and its threads sweep the columns in
// 16-byte vectors (or scalars when the rows are off a 16-byte boundary). Index -1 means "no row"; any other
// index outside the table is reported in the fault record (c2f::report_fault) and its row left untouched.
//
// Scatter-add is deterministic: repeated indices add in row order on every run, as on the CPU backends
// (bit for bit), instead of with float atomics. A first pass records each index's first and last source row
// with integer atomicMin/atomicMax (whose results do not depend on order); in the second, the first row of
// each index owns its destination row and adds every row of that index in order, one thread per column.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

using c2f::bf16;

namespace {

/// Copies row `from` of src to row `to` of dst; a null `from` writes zeros.
template <typename T>
C2F_DEVICE void move_row(const T* from, T* to, int width)
{
    const c2f::VectorSplit s = from ? c2f::split_range(width, from, to) : c2f::split_range(width, to);
    c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
        constexpr int N = decltype(w)::value;
        float v[N] = {};
        if (from) c2f::load<N>(from + i, v);
        c2f::store<N>(to + i, v);
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
        move_row(index == -1 ? nullptr : src + (long long)index * width, dst + (long long)row * width, width);
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

/// dst[indices[i]] = src[i]; -1 skips.
extern "C" __global__ void __launch_bounds__(256)
c2f_rows_scatter_f32(const float* __restrict__ src, const int* __restrict__ indices, float* __restrict__ dst, int rows,
                     int width, int destination_rows, int* fault)
{
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const int index = indices[row];
        if (index == -1) continue;
        if (index < 0 || index >= destination_rows) {
            if (threadIdx.x == 0) c2f::report_fault(fault, c2f::ScatterRowIndex, index, destination_rows);
            continue;
        }
        move_row(src + (long long)row * width, dst + (long long)index * width, width);
    }
}
C2F_REGISTER_KERNEL(c2f_rows_scatter_f32);

/// Scatter-add, pass 1: first[index] = the first row naming index, last[index] = the last (first starts at
/// INT_MAX and last at -1 where no row names it); indices outside the table are faults.
extern "C" __global__ void __launch_bounds__(256)
c2f_rows_scatter_add_bounds(const int* __restrict__ indices, int rows, int destination_rows, int* first, int* last, int* fault)
{
    for (long long row = c2f::global_thread(); row < rows; row += c2f::global_threads()) {
        const int index = indices[row];
        if (index == -1) continue;
        if (index < 0 || index >= destination_rows) {
            c2f::report_fault(fault, c2f::ScatterAddRowIndex, index, destination_rows);
            continue;
        }
        atomicMin(first + index, static_cast<int>(row));
        atomicMax(last + index, static_cast<int>(row));
    }
}
C2F_REGISTER_KERNEL(c2f_rows_scatter_add_bounds);

/// Scatter-add, pass 2: dst[index] += src[row] for every row naming index, in row order. Blocks stride over the
/// rows and take those that own their index (its first row); each thread owns one column of the block's column
/// tile (blockIdx.y) and sums down the rows between first and last, whose indices the block stages in shared memory.
extern "C" __global__ void __launch_bounds__(256)
c2f_rows_scatter_add_owned_f32(const float* __restrict__ src, const int* __restrict__ indices, float* __restrict__ dst, int rows,
                               int width, int destination_rows, const int* __restrict__ first, const int* __restrict__ last)
{
    __shared__ int staged[256];
    const long long column = (long long)blockIdx.y * blockDim.x + threadIdx.x;
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const int index = indices[row];
        if (index < 0 || index >= destination_rows || first[index] != row) continue;  // the same for the whole block
        const int end = last[index];
        float* out = dst + (long long)index * width + column;
        float sum = column < width ? *out : 0.0f;
        for (int chunk = row; chunk <= end; chunk += blockDim.x) {
            __syncthreads();  // every thread is done with the previous chunk's indices
            if (chunk + (int)threadIdx.x <= end) staged[threadIdx.x] = indices[chunk + threadIdx.x];
            __syncthreads();
            const int count = min((int)blockDim.x, end - chunk + 1);
            if (column < width)
                for (int k = 0; k < count; k++)
                    if (staged[k] == index) sum += src[(long long)(chunk + k) * width + column];
        }
        if (column < width) *out = sum;
    }
}
C2F_REGISTER_KERNEL(c2f_rows_scatter_add_owned_f32);
