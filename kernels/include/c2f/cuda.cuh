// The one include of every kernel source: CUDA on nvcc, the CPU emulation everywhere else.
//
// Kernels are plain CUDA C++ with three conventions, so the same source also builds with the host
// compiler against the emulator (docs/DEFINITIONS.md, "Testing a kernel"):
//   * entry points are `extern "C" __global__` and are followed by C2F_REGISTER_KERNEL(name);
//   * dynamic shared memory is declared with C2F_DYNAMIC_SHARED(type, name);
//   * tensor-core and ldmatrix instructions go through the wrappers of c2f/mma.cuh.
// Everything else (threadIdx, __shared__ arrays, __syncthreads, warp shuffles and votes, atomics,
// __nv_bfloat16) is written as on the device.
#pragma once

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <stdint.h>
#define C2F_DEVICE __device__ __forceinline__
#define C2F_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#define C2F_REGISTER_KERNEL(name) static_assert(true, "")
#else
#include "c2f/emu/emulator.h"
#endif

#include "c2f/mma.cuh"

namespace c2f {

/// The larger of a and b, NaN if either is NaN. fmaxf returns the other operand for a NaN (IEEE maxNum), so a
/// running maximum built on it drops a NaN score or logit; the op contract wants the NaN in every output that
/// reads it. One instruction from sm_80 on (max.NaN.f32, FMNMX.NAN), the oldest architecture built.
#if defined(__CUDACC__)
C2F_DEVICE float max_nan(float a, float b)
{
    float d;
    asm("max.NaN.f32 %0, %1, %2;" : "=f"(d) : "f"(a), "f"(b));
    return d;
}
#else
C2F_DEVICE float max_nan(float a, float b) { return isnan(a) || isnan(b) ? NAN : fmaxf(a, b); }
#endif

}  // namespace c2f
