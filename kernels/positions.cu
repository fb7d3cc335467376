// Whether a [batch, length] position tensor is the training layout that flash attention assumes: every row
// consecutive from a non-negative start (p[b][i] = p[b][0] + i). Any thread that finds otherwise clears the flag.
#include "c2f/cuda.cuh"

extern "C" __global__ void c2f_positions_consecutive(const int* __restrict__ positions, int batch, int length, int* flag)
{
    const long long total = 1LL * batch * length, stride = 1LL * gridDim.x * blockDim.x;
    for (long long i = 1LL * blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
    {
        const long long row_start = i - i % length;
        const int first = positions[row_start];
        if (first < 0 || positions[i] != first + static_cast<int>(i - row_start)) atomicExch(flag, 0);
    }
}
C2F_REGISTER_KERNEL(c2f_positions_consecutive);
