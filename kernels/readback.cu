// One download for a result and the fault record: the record's three ints and the bytes of a small result
// are gathered into one staging buffer on the device, so the host reads both with a single copy (a single
// wait) instead of one for the result and one for the record.
#include "c2f/cuda.cuh"

/// staging[0, 12) = fault[0, 3); staging[16, 16 + bytes) = source[0, bytes). Any grid.
extern "C" __global__ void __launch_bounds__(256)
c2f_readback_gather(const int* fault, const unsigned char* source, long long bytes, unsigned char* staging)
{
    const long long thread = (long long)blockIdx.x * blockDim.x + threadIdx.x, threads = (long long)gridDim.x * blockDim.x;
    if (thread < 3) reinterpret_cast<int*>(staging)[thread] = fault[thread];
    unsigned char* data = staging + 16;
    // Whole words where both ends are 4-byte aligned (every tensor of 4-byte elements), bytes for the rest.
    const bool words = (reinterpret_cast<uintptr_t>(source) & 3) == 0;
    const long long word_count = words ? bytes / 4 : 0;
    for (long long i = thread; i < word_count; i += threads)
        reinterpret_cast<unsigned int*>(data)[i] = reinterpret_cast<const unsigned int*>(source)[i];
    for (long long i = word_count * 4 + thread; i < bytes; i += threads) data[i] = source[i];
}
C2F_REGISTER_KERNEL(c2f_readback_gather);
