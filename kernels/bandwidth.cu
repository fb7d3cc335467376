// The copy-bandwidth roofline of the kernel benchmarks: a grid-stride copy of 16-byte vectors, the most
// a memory-bound kernel can move per second on this device.
#include "c2f/cuda.cuh"

/// destination[i] = source[i] for i < count (float4 elements, 16-byte aligned).
extern "C" __global__ void __launch_bounds__(256)
c2f_bandwidth_copy_f32x4(const float4* __restrict__ source, float4* __restrict__ destination, long long count)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
        destination[i] = __ldg(source + i);
}
C2F_REGISTER_KERNEL(c2f_bandwidth_copy_f32x4);
