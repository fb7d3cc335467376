// Self-test kernels of the launch path (not ops): the runtime tests launch them on the emulator and on the
// GPU to check argument passing, grid and block indexing, dynamic shared memory, barriers and shuffles.
#include "c2f/cuda.cuh"

/// y[i] += a·x[i] for i < n, over a grid-stride loop (any grid covers any n).
extern "C" __global__ void c2f_selftest_axpy_f32(float* __restrict__ y, const float* __restrict__ x, float a, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        y[i] += a * x[i];
}
C2F_REGISTER_KERNEL(c2f_selftest_axpy_f32);

/// out[b] = Σ x[i] over block b's slice [b·blockDim.x, (b+1)·blockDim.x) ∩ [0, n): a warp sum by shuffles,
/// then the warps' sums through dynamic shared memory (blockDim.x / 32 floats) across a barrier.
/// blockDim.x must be a multiple of 32.
extern "C" __global__ void c2f_selftest_block_sum_f32(float* __restrict__ out, const float* __restrict__ x, int n)
{
    C2F_DYNAMIC_SHARED(float, warp_sums);
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    float sum = i < n ? x[i] : 0.0f;
    for (int offset = 16; offset > 0; offset /= 2)
        sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) warp_sums[warp] = sum;
    __syncthreads();
    if (warp == 0)
    {
        sum = lane < static_cast<int>(blockDim.x / 32) ? warp_sums[lane] : 0.0f;
        for (int offset = 16; offset > 0; offset /= 2)
            sum += __shfl_down_sync(0xffffffffu, sum, offset);
        if (lane == 0) out[blockIdx.x] = sum;
    }
}
C2F_REGISTER_KERNEL(c2f_selftest_block_sum_f32);

/// Writes each scalar parameter's bits to out[0..4] (int and float widened without conversion), so a test
/// sees that 4- and 8-byte arguments in any order arrive intact.
extern "C" __global__ void c2f_selftest_echo_args(unsigned long long* out, int i, float f, double d, long long l, unsigned u)
{
    if (blockIdx.x == 0 && threadIdx.x == 0)
    {
        out[0] = static_cast<unsigned int>(i);
        out[1] = __float_as_uint(f);
        reinterpret_cast<double*>(out)[2] = d;
        out[3] = static_cast<unsigned long long>(l);
        out[4] = u;
    }
}
C2F_REGISTER_KERNEL(c2f_selftest_echo_args);
