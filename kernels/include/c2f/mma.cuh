// Tensor-core building blocks behind small device functions. On the device they are single PTX
// instructions; the emulator implements each one lane by lane after the PTX ISA's fragment layouts
// (groupID = lane / 4, threadID_in_group = lane % 4), so a kernel that is right on one is right on both.
#pragma once

namespace c2f {

/// Two bf16 (round to nearest even) in one register: `low` in bits 0-15, `high` in bits 16-31,
/// the order in which fragments hold consecutive elements.
C2F_DEVICE uint32_t pack_bf16x2(float low, float high)
{
    __nv_bfloat162 pair = __floats2bfloat162_rn(low, high);
    uint32_t bits;
    memcpy(&bits, &pair, sizeof bits);
    return bits;
}

#if defined(__CUDACC__)

C2F_DEVICE uint32_t shared_address(const void* pointer)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(pointer));
}

/// D = A·B + C for one warp: A 16×16 bf16 (row), B 16×8 bf16 (col), C and D 16×8 float32.
/// a: a0..a7 as 4 registers, b: b0..b3 as 2, c/d: c0..c3 (PTX ISA "mma.m16n8k16" fragment layouts).
C2F_DEVICE void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4])
{
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]),
          "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}

/// ldmatrix .m8n8 .b16: lanes 8i..8i+7 give the shared-memory addresses of the 8 rows (16 bytes each) of
/// matrix i; register i of lane l receives row l/4, columns 2(l%4) and 2(l%4)+1 of matrix i
/// (of its transpose with .trans).
C2F_DEVICE void ldmatrix_x4(uint32_t (&r)[4], const void* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)));
}

C2F_DEVICE void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)));
}

/// As ldmatrix_x4 with two matrices: lanes 0-15 give the addresses (lanes 16-31 must pass valid ones too).
C2F_DEVICE void ldmatrix_x2(uint32_t (&r)[2], const void* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(shared_address(row)));
}

C2F_DEVICE void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(shared_address(row)));
}

/// 16-byte asynchronous copy global → shared (sm_80 cp.async.cg), grouped by commit and awaited by wait.
C2F_DEVICE void cp_async_16(void* shared, const void* global)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" :: "r"(shared_address(shared)), "l"(global));
}

/// As cp_async_16, but reads only `valid_bytes` (0 or 16) and zero-fills the rest: ragged tiles.
C2F_DEVICE void cp_async_16_zfill(void* shared, const void* global, int valid_bytes)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                 :: "r"(shared_address(shared)), "l"(global), "r"(valid_bytes));
}

C2F_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

/// Waits until at most `Pending` committed groups of this thread are still in flight.
template <int Pending>
C2F_DEVICE void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" :: "n"(Pending)); }

#else  // the emulator: see c2f/emu/warp.h

C2F_DEVICE void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4])
{
    c2f_emu::mma_m16n8k16_bf16(d, a, b, c);
}

C2F_DEVICE void ldmatrix_x4(uint32_t (&r)[4], const void* row) { c2f_emu::ldmatrix(r, 4, row, false); }
C2F_DEVICE void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) { c2f_emu::ldmatrix(r, 4, row, true); }
C2F_DEVICE void ldmatrix_x2(uint32_t (&r)[2], const void* row) { c2f_emu::ldmatrix(r, 2, row, false); }
C2F_DEVICE void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row) { c2f_emu::ldmatrix(r, 2, row, true); }

// Copies land only when a cp_async_wait lets their group complete, as late as the device may make them,
// so a tile read before its wait (or overwritten while still in flight) shows up in the results.
C2F_DEVICE void cp_async_16(void* shared, const void* global) { c2f_emu::async_copy(shared, global, 16); }

C2F_DEVICE void cp_async_16_zfill(void* shared, const void* global, int valid_bytes)
{
    c2f_emu::async_copy(shared, global, valid_bytes);
}

C2F_DEVICE void cp_async_commit() { c2f_emu::async_commit(); }

template <int Pending>
C2F_DEVICE void cp_async_wait() { c2f_emu::async_wait(Pending); }

#endif

}  // namespace c2f
