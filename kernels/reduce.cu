// Σ x² of a float32 tensor in float64 (the building block of the global gradient norm), deterministic:
// each block reduces a grid-stride share to one double (squares of a vector summed in float, then
// accumulated in double per thread, then a block reduction), and a single block adds the partials in order.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

/// partials[blockIdx.x] = Σ x² over the block's grid-stride share of x[0, n).
extern "C" __global__ void __launch_bounds__(256)
c2f_reduce_sum_squares_partials_f32(const float* x, int n, double* partials)
{
    __shared__ double slots[32];
    const c2f::VectorSplit s = c2f::split_range(n, x);
    double sum = 0;
    c2f::for_each_access<float>(s, c2f::global_thread(), c2f::global_threads(), [&](long long i, auto w) {
        constexpr int N = decltype(w)::value;
        float v[N], squares = 0;
        c2f::load<N>(x + i, v);
#pragma unroll
        for (int k = 0; k < N; k++) squares += v[k] * v[k];
        sum += squares;
    });
    sum = c2f::block_sum(sum, slots);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}
C2F_REGISTER_KERNEL(c2f_reduce_sum_squares_partials_f32);

/// total[0] = Σ values[0, count), one block, in a fixed order.
extern "C" __global__ void __launch_bounds__(1024)
c2f_reduce_sum_f64(const double* values, int count, double* total)
{
    __shared__ double slots[32];
    double sum = 0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) sum += values[i];
    sum = c2f::block_sum(sum, slots);
    if (threadIdx.x == 0) total[0] = sum;
}
C2F_REGISTER_KERNEL(c2f_reduce_sum_f64);
