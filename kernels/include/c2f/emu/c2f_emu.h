// The C interface of the CPU emulation library (libc2f_cuda_emu), which the C# CUDA backend drives
// through the same launch shape as the driver's cuLaunchKernel. Device memory is host memory.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Runs `kernel` over the grid, blocks spread over the worker threads; returns 0, or -1 with
/// c2f_emu_last_error() saying why (unknown kernel, bad launch shape, deadlock at a barrier, trap).
/// `params[i]` points at the value of the kernel's i-th parameter, as with cuLaunchKernel.
int c2f_emu_launch(const char* kernel, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                   unsigned block_x, unsigned block_y, unsigned block_z,
                   unsigned dynamic_shared_bytes, void** params);

/// The message of the last failure on the calling thread ("" when none).
const char* c2f_emu_last_error(void);

/// 256-byte aligned "device" memory, or NULL when the host has none left.
void* c2f_emu_malloc(size_t bytes);
void c2f_emu_free(void* pointer);

/// The registered kernels, for listing and for checking that a name exists.
int c2f_emu_kernel_count(void);
const char* c2f_emu_kernel_name(int index);

/// A kernel's parameters, one letter each (NULL for an unknown name), so a launch can check its argument list:
/// p pointer, f float, d double, i / u 32-bit signed / unsigned, l / L 64-bit signed / unsigned, ? anything else.
const char* c2f_emu_kernel_signature(const char* kernel);

/// Worker threads that run blocks concurrently (0, the default: one per hardware thread); 1 makes launches deterministic
/// in the order of atomics.
void c2f_emu_set_worker_threads(int count);

#ifdef __cplusplus
}
#endif
