// Tensor-core, ldmatrix and vote instructions, lane by lane, after the PTX ISA fragment layouts:
// groupID = lane / 4 and threadID_in_group = lane % 4; a 32-bit register holds two consecutive bf16,
// the lower-indexed one in bits 0-15.
#include <cstring>
#include "c2f/emu/bf16.h"
#include "c2f/emu/warp.h"

namespace c2f_emu {
namespace {

float bf16_at(uint32_t pair, int half)
{
    __nv_bfloat16 value;
    value.__x = static_cast<unsigned short>(half ? pair >> 16 : pair & 0xFFFFu);
    return static_cast<float>(value);
}

// Where element (row, k) of the 16×16 A operand lives: lane groupID = row % 8, threadID_in_group = (k % 8) / 2;
// register a0a1 / a2a3 / a4a5 / a6a7 by (row ≥ 8) + 2·(k ≥ 8).
float a_element(const uint64_t* slots, int row, int k)
{
    int lane = (row % 8) * 4 + (k % 8) / 2;
    int reg = (row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0);
    return bf16_at(static_cast<uint32_t>(slots[lane * 16 + reg]), k & 1);
}

// Element (k, n) of the 16×8 B operand: lane groupID = n, threadID_in_group = (k % 8) / 2; register b0b1 / b2b3 by k ≥ 8.
float b_element(const uint64_t* slots, int k, int n)
{
    int lane = n * 4 + (k % 8) / 2;
    int reg = k >= 8 ? 1 : 0;
    return bf16_at(static_cast<uint32_t>(slots[lane * 16 + 4 + reg]), k & 1);
}

}  // namespace

void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4])
{
    uint64_t* slots = warp_slots();
    int lane = current_thread().lane;
    for (int r = 0; r < 4; r++) slots[lane * 16 + r] = a[r];
    for (int r = 0; r < 2; r++) slots[lane * 16 + 4 + r] = b[r];
    float accumulator[4] = {c[0], c[1], c[2], c[3]};  // d may alias c
    sync_warp();
    // d0, d1: row groupID; d2, d3: row groupID + 8; columns 2·threadID_in_group + (i & 1).
    int group = lane / 4, thread_in_group = lane % 4;
    for (int i = 0; i < 4; i++)
    {
        int row = group + (i >= 2 ? 8 : 0), column = thread_in_group * 2 + (i & 1);
        float sum = accumulator[i];
        for (int k = 0; k < 16; k++) sum += a_element(slots, row, k) * b_element(slots, k, column);
        accumulator[i] = sum;
    }
    sync_warp();
    for (int i = 0; i < 4; i++) d[i] = accumulator[i];
}

void ldmatrix(uint32_t* registers, int matrices, const void* row, bool transpose)
{
    uint64_t* slots = warp_slots();
    int lane = current_thread().lane;
    slots[lane * 16] = reinterpret_cast<uint64_t>(row);
    sync_warp();
    // Row r of matrix i comes from lane 8i + r; this lane receives row lane/4, columns 2(lane%4) and +1
    // (of the transpose: column lane/4 of rows 2(lane%4) and +1).
    for (int i = 0; i < matrices; i++)
    {
        unsigned short halves[2];
        for (int h = 0; h < 2; h++)
        {
            int matrix_row = transpose ? 2 * (lane % 4) + h : lane / 4;
            int matrix_column = transpose ? lane / 4 : 2 * (lane % 4) + h;
            auto* source = reinterpret_cast<const unsigned short*>(slots[(8 * i + matrix_row) * 16]);
            std::memcpy(&halves[h], source + matrix_column, sizeof(unsigned short));
        }
        registers[i] = static_cast<uint32_t>(halves[0]) | static_cast<uint32_t>(halves[1]) << 16;
    }
    sync_warp();
}

unsigned warp_ballot(unsigned mask, bool predicate)
{
    if (mask != 0xFFFFFFFFu) trap("warp collective with a partial mask: the emulator needs all 32 lanes");
    uint64_t* slots = warp_slots();
    int lane = current_thread().lane;
    slots[lane * 16] = predicate ? 1 : 0;
    sync_warp();
    unsigned ballot = 0;
    int lanes = static_cast<int>(current_block().block_dim.x * current_block().block_dim.y * current_block().block_dim.z) - 32 * current_thread().warp;
    for (int l = 0; l < 32 && l < lanes; l++)
        if (slots[l * 16]) ballot |= 1u << l;
    sync_warp();
    return ballot;
}

}  // namespace c2f_emu
