// The CUDA surface that kernels/*.cu use, for the host compiler: the same sources run on the CPU with
// one fiber per CUDA thread (docs/DEFINITIONS.md, "Testing a kernel"). Only what our kernels need is here, each piece with
// the device's semantics; anything else fails to compile rather than behave differently.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include "c2f/emu/atomics.h"
#include "c2f/emu/bf16.h"
#include "c2f/emu/registry.h"
#include "c2f/emu/runtime.h"
#include "c2f/emu/vector_types.h"
#include "c2f/emu/warp.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Shared memory is per block; a worker thread runs one block at a time, all of its fibers on that thread.
#define __shared__ static thread_local

#define C2F_DEVICE inline
#define C2F_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::c2f_emu::current_block().dynamic_shared)

#define threadIdx (::c2f_emu::current_thread().thread_idx)
#define blockIdx (::c2f_emu::current_block().block_idx)
#define blockDim (::c2f_emu::current_block().block_dim)
#define gridDim (::c2f_emu::current_block().grid_dim)
#define warpSize 32

inline void __syncthreads() { c2f_emu::sync_block(); }
[[noreturn]] inline void __trap() { c2f_emu::trap("__trap()"); }

template <class T>
inline T __ldg(const T* address) { return *address; }

inline float __uint_as_float(unsigned bits) { float f; std::memcpy(&f, &bits, 4); return f; }
inline unsigned __float_as_uint(float value) { unsigned u; std::memcpy(&u, &value, 4); return u; }
inline float __int_as_float(int bits) { float f; std::memcpy(&f, &bits, 4); return f; }
inline int __float_as_int(float value) { int i; std::memcpy(&i, &value, 4); return i; }

// Fast-math intrinsics: the device's are approximations within a few ulp; the exact function is within that.
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }

using std::isfinite;
using std::isinf;
using std::isnan;
