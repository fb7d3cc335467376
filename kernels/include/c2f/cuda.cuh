// The one include of every kernel source: CUDA on nvcc, the CPU emulation everywhere else.
//
// Kernels are plain CUDA C++ with three conventions, so the same source also builds with the host
// compiler against the emulator (ENGINEERING.md §3):
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
