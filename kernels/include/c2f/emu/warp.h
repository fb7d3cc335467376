// Warp collectives on the emulator: shuffles, votes, and the tensor-core and ldmatrix instructions
// (implemented after the PTX ISA fragment layouts in kernels/emu/tensor_core.cpp).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>
#include "c2f/emu/runtime.h"

namespace c2f_emu {

/// Every lane publishes `value`; each lane gets the value published by `source(lane)`, or its own when the
/// source is outside its `width`-lane segment. The mask must name every lane (checked).
template <class T, class Source>
T warp_shuffle(unsigned mask, T value, Source source)
{
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move at most 64 bits");
    if (mask != 0xFFFFFFFFu) trap("warp collective with a partial mask: the emulator needs all 32 lanes");
    uint64_t* slots = warp_slots();
    int lane = current_thread().lane;
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    slots[lane * 16] = bits;
    sync_warp();
    int from = source(lane);
    if (from >= 0 && from < 32) std::memcpy(&value, &slots[from * 16], sizeof(T));
    sync_warp();
    return value;
}

/// Every lane votes; returns the ballot of the whole warp.
unsigned warp_ballot(unsigned mask, bool predicate);

void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4]);

/// ldmatrix .m8n8 .b16 with `matrices` ∈ {1, 2, 4}: lane l passes the address of row l % 8 of matrix l / 8.
void ldmatrix(uint32_t* registers, int matrices, const void* row, bool transpose);

}  // namespace c2f_emu

template <class T>
T __shfl_sync(unsigned mask, T value, int source_lane, int width = 32)
{
    return c2f_emu::warp_shuffle(mask, value, [=](int lane) { return (lane & ~(width - 1)) + (source_lane & (width - 1)); });
}

template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32)
{
    return c2f_emu::warp_shuffle(mask, value, [=](int lane) {
        int from = lane ^ lane_mask;
        return (from & ~(width - 1)) == (lane & ~(width - 1)) ? from : lane;
    });
}

template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32)
{
    return c2f_emu::warp_shuffle(mask, value, [=](int lane) {
        int from = lane + static_cast<int>(delta);
        return (from & ~(width - 1)) == (lane & ~(width - 1)) ? from : lane;
    });
}

template <class T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32)
{
    return c2f_emu::warp_shuffle(mask, value, [=](int lane) {
        int from = lane - static_cast<int>(delta);
        return from >= (lane & ~(width - 1)) ? from : lane;
    });
}

inline unsigned __ballot_sync(unsigned mask, int predicate) { return c2f_emu::warp_ballot(mask, predicate != 0); }
inline int __any_sync(unsigned mask, int predicate) { return c2f_emu::warp_ballot(mask, predicate != 0) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return c2f_emu::warp_ballot(mask, predicate == 0) == 0; }
inline void __syncwarp(unsigned mask = 0xFFFFFFFFu)
{
    if (mask != 0xFFFFFFFFu) c2f_emu::trap("__syncwarp with a partial mask: the emulator needs all 32 lanes");
    c2f_emu::sync_warp();
}
