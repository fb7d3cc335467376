// The emulated execution model seen from inside a kernel: which thread and block is running, and the
// points where threads wait for each other. Implemented by kernels/emu/block_scheduler.cpp.
#pragma once
#include <cstdint>
#include "c2f/emu/vector_types.h"

namespace c2f_emu {

struct ThreadState
{
    uint3 thread_idx;
    int lane;  // linear thread index % 32
    int warp;  // linear thread index / 32
};

struct BlockState
{
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
    unsigned char* dynamic_shared;
};

// The running thread (a fiber) and its block; both are per worker thread, switched with the fiber.
extern thread_local ThreadState* current_thread_state;
extern thread_local BlockState* current_block_state;

inline const ThreadState& current_thread() { return *current_thread_state; }
inline const BlockState& current_block() { return *current_block_state; }

/// __syncthreads: waits until every thread of the block that has not exited arrives.
void sync_block();

/// A barrier of the running thread's warp: waits until every lane of the warp arrives. Every warp
/// collective (shuffle, vote, mma, ldmatrix) is "deposit, sync_warp, read, sync_warp".
void sync_warp();

/// 32 lanes × 16 words of exchange space for the running thread's warp, valid between two sync_warp calls.
uint64_t* warp_slots();

/// cp.async for the running thread: a 16-byte copy of which the first `valid_bytes` come from `global`
/// and the rest are zeros, made when a later async_wait completes its group (commit closes a group).
void async_copy(void* shared, const void* global, int valid_bytes);
void async_commit();
/// Completes every committed group of the running thread except the `pending` most recent ones.
void async_wait(int pending);

/// Ends the running thread and fails the launch with `reason` (the emulator's __trap).
[[noreturn]] void trap(const char* reason);

}  // namespace c2f_emu
