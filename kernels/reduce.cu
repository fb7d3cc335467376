// Sums of a float32 tensor in float64, deterministic: each block reduces a grid-stride share to one double
// (a vector's values or squares summed in float, then accumulated in double per thread, then a block
// reduction), and a single block adds the partials in order and finishes: the raw double (the host's
// Σ x²), the root written as float (the global gradient norm, left on the device), or a scaled sum added
// to a float total (a step's loss over its micro-batches).
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

namespace {

/// partials[blockIdx.x] = Σ f(x) over the block's grid-stride share of x[0, n); f squares when `squares`.
template <bool squares>
C2F_DEVICE void partial_sums(const float* x, int n, double* partials)
{
    __shared__ double slots[32];
    const c2f::VectorSplit s = c2f::split_range(n, x);
    double sum = 0;
    c2f::for_each_access<float>(s, c2f::global_thread(), c2f::global_threads(), [&](long long i, auto w) {
        constexpr int N = decltype(w)::value;
        float v[N], vector_sum = 0;
        c2f::load<N>(x + i, v);
#pragma unroll
        for (int k = 0; k < N; k++) vector_sum += squares ? v[k] * v[k] : v[k];
        sum += vector_sum;
    });
    sum = c2f::block_sum(sum, slots);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

/// Σ values[0, count) by one block in a fixed order; the result is valid in thread 0.
C2F_DEVICE double ordered_sum(const double* values, int count)
{
    __shared__ double slots[32];
    double sum = 0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) sum += values[i];
    return c2f::block_sum(sum, slots);
}

}  // namespace

extern "C" __global__ void __launch_bounds__(256)
c2f_reduce_sum_squares_partials_f32(const float* x, int n, double* partials)
{
    partial_sums<true>(x, n, partials);
}
C2F_REGISTER_KERNEL(c2f_reduce_sum_squares_partials_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_reduce_sum_partials_f32(const float* x, int n, double* partials)
{
    partial_sums<false>(x, n, partials);
}
C2F_REGISTER_KERNEL(c2f_reduce_sum_partials_f32);

/// total[0] = Σ values[0, count), one block.
extern "C" __global__ void __launch_bounds__(1024)
c2f_reduce_sum_f64(const double* values, int count, double* total)
{
    const double sum = ordered_sum(values, count);
    if (threadIdx.x == 0) total[0] = sum;
}
C2F_REGISTER_KERNEL(c2f_reduce_sum_f64);

/// norm[0] = √Σ partials[0, count) rounded to float, one block.
extern "C" __global__ void __launch_bounds__(1024)
c2f_reduce_finish_norm_f32(const double* partials, int count, float* norm)
{
    const double sum = ordered_sum(partials, count);
    if (threadIdx.x == 0) norm[0] = (float)sqrt(sum);
}
C2F_REGISTER_KERNEL(c2f_reduce_finish_norm_f32);

/// total[0] = total[0] + scale · Σ partials[0, count), in double, rounded to float; one block.
extern "C" __global__ void __launch_bounds__(1024)
c2f_reduce_finish_accumulate_f32(const double* partials, int count, double scale, float* total)
{
    const double sum = ordered_sum(partials, count);
    if (threadIdx.x == 0) total[0] = (float)((double)total[0] + scale * sum);
}
C2F_REGISTER_KERNEL(c2f_reduce_finish_accumulate_f32);
