// Float32 ↔ bf16 (to bf16: round to nearest even): the operands and results of the tensor-core kernels
// when the float32 op contract runs products and attention on tensor cores. Coalesced scalar accesses:
// adjacent threads touch adjacent elements, so each warp moves whole 128-byte lines whatever the views'
// alignment.
#include "c2f/cuda.cuh"

extern "C" __global__ void c2f_convert_f32_to_bf16(const float* __restrict__ source, __nv_bfloat16* __restrict__ destination, int count)
{
    const long long stride = 1LL * gridDim.x * blockDim.x;
    for (long long i = 1LL * blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
        destination[i] = __float2bfloat16(source[i]);
}
C2F_REGISTER_KERNEL(c2f_convert_f32_to_bf16);

extern "C" __global__ void c2f_convert_bf16_to_f32(const __nv_bfloat16* __restrict__ source, float* __restrict__ destination, int count)
{
    const long long stride = 1LL * gridDim.x * blockDim.x;
    for (long long i = 1LL * blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
        destination[i] = __bfloat162float(source[i]);
}
C2F_REGISTER_KERNEL(c2f_convert_bf16_to_f32);
