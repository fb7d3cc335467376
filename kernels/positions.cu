// Whether a [batch, length] position tensor is a layout flash attention takes: every row consecutive from a
// non-negative start (p[b][i] = p[b][0] + i) over its first lengths[b] slots, then empty slots (-1) to the end
// (right padding; lengths[b] = length without any). The last filled slot of a row writes its length, so
// `lengths` must start at 0 for a wholly empty row; any thread that finds another layout clears the flag.
#include "c2f/cuda.cuh"

extern "C" __global__ void c2f_positions_right_padded(const int* __restrict__ positions, int batch, int length, int* lengths,
                                                      int* flag)
{
    const long long total = 1LL * batch * length, stride = 1LL * gridDim.x * blockDim.x;
    for (long long i = 1LL * blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride)
    {
        const int slot = static_cast<int>(i % length), first = positions[i - slot], position = positions[i];
        const int next = slot == length - 1 ? -1 : positions[i + 1];
        if (position >= 0)
        {
            if (first < 0 || position != first + slot) atomicExch(flag, 0);
            if (next < 0) lengths[i / length] = slot + 1;
        }
        else if (position != -1 || next != -1)
        {
            atomicExch(flag, 0);  // a malformed empty slot, or a filled slot after an empty one
        }
    }
}
C2F_REGISTER_KERNEL(c2f_positions_right_padded);
