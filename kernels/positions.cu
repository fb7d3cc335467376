// Each row's filled length from a [batch, length] position tensor in the sequences layout (the caller's statement,
// Backends/AttentionLayout.cs: every row consecutive from a non-negative start, then empty slots, -1, to its end):
// the last filled slot of a row writes its length, so `lengths` must start at 0 for a wholly empty row.
#include "c2f/cuda.cuh"

extern "C" __global__ void c2f_positions_row_lengths(const int* __restrict__ positions, int batch, int length, int* lengths)
{
    const long long total = 1LL * batch * length, stride = 1LL * gridDim.x * blockDim.x;
    for (long long i = 1LL * blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
    {
        const int slot = static_cast<int>(i % length);
        const int next = slot == length - 1 ? -1 : positions[i + 1];
        if (positions[i] >= 0 && next < 0) lengths[i / length] = slot + 1;
    }
}
C2F_REGISTER_KERNEL(c2f_positions_row_lengths);
