// Probes of the tensor-core fragment layouts, for tests that compare them with a plain matrix product.
// On a GPU they pin what the hardware does; on the emulator, that the emulation does the same.
#include "c2f/cuda.cuh"

namespace {

// PTX ISA, mma.m16n8k16 with .bf16: groupID = lane / 4, threadID_in_group = lane % 4.
C2F_DEVICE int group_of(int lane) { return lane / 4; }
C2F_DEVICE int thread_in_group(int lane) { return lane % 4; }

}  // namespace

/// D = A·B + C with every fragment built straight from the documented layouts (no ldmatrix).
/// a: 16×16 bf16 row-major, b: 16×8 bf16 row-major ([k][n]), c and d: 16×8 float32 row-major. One warp.
extern "C" __global__ void c2f_fragment_mma_by_layout(const __nv_bfloat16* a, const __nv_bfloat16* b, const float* c, float* d)
{
    int lane = threadIdx.x, g = group_of(lane), t = thread_in_group(lane);
    uint32_t fa[4], fb[2];
    for (int r = 0; r < 4; r++)
    {
        int row = g + (r % 2) * 8, column = 2 * t + (r / 2) * 8;
        fa[r] = c2f::pack_bf16x2(__bfloat162float(a[row * 16 + column]), __bfloat162float(a[row * 16 + column + 1]));
    }
    for (int r = 0; r < 2; r++)
    {
        int k = 2 * t + r * 8;
        fb[r] = c2f::pack_bf16x2(__bfloat162float(b[k * 8 + g]), __bfloat162float(b[(k + 1) * 8 + g]));
    }
    float fc[4], fd[4];
    for (int i = 0; i < 4; i++) fc[i] = c[(g + (i / 2) * 8) * 8 + 2 * t + i % 2];
    c2f::mma_m16n8k16_bf16(fd, fa, fb, fc);
    for (int i = 0; i < 4; i++) d[(g + (i / 2) * 8) * 8 + 2 * t + i % 2] = fd[i];
}
C2F_REGISTER_KERNEL(c2f_fragment_mma_by_layout);

/// The registers ldmatrix gives each lane for four 8×8 bf16 matrices stored as a 32×8 row-major block
/// (matrix i = rows 8i..8i+7): registers[lane·4 + i], plain when transpose is 0, .trans otherwise. One warp.
extern "C" __global__ void c2f_fragment_ldmatrix_x4(const __nv_bfloat16* matrices, int transpose, uint32_t* registers)
{
    __shared__ __align__(16) __nv_bfloat16 tile[32 * 8];
    int lane = threadIdx.x;
    for (int i = lane; i < 32 * 8; i += 32) tile[i] = matrices[i];
    __syncthreads();
    uint32_t r[4];
    if (transpose) c2f::ldmatrix_x4_trans(r, &tile[lane * 8]);
    else c2f::ldmatrix_x4(r, &tile[lane * 8]);
    for (int i = 0; i < 4; i++) registers[lane * 4 + i] = r[i];
}
C2F_REGISTER_KERNEL(c2f_fragment_ldmatrix_x4);

/// D = A·B + C the way the GEMM and attention kernels load operands: A (16×16 row-major) by ldmatrix_x4,
/// B by ldmatrix_x2_trans from row-major [k][n] storage when b_is_k_major, else by ldmatrix_x2 from [n][k]. One warp.
extern "C" __global__ void c2f_fragment_mma_by_ldmatrix(const __nv_bfloat16* a, const __nv_bfloat16* b, int b_is_k_major,
                                                        const float* c, float* d)
{
    __shared__ __align__(16) __nv_bfloat16 shared_a[16 * 16];
    __shared__ __align__(16) __nv_bfloat16 shared_b[16 * 8];
    int lane = threadIdx.x, g = group_of(lane), t = thread_in_group(lane);
    for (int i = lane; i < 16 * 16; i += 32) shared_a[i] = a[i];
    for (int i = lane; i < 16 * 8; i += 32) shared_b[i] = b[i];
    __syncthreads();
    uint32_t fa[4], fb[2];
    // Matrices 0..3 of A: rows 0-7 / 8-15 (lane % 16) × columns 0-7 / 8-15 (lane / 16).
    c2f::ldmatrix_x4(fa, &shared_a[(lane % 16) * 16 + (lane / 16) * 8]);
    if (b_is_k_major) c2f::ldmatrix_x2_trans(fb, &shared_b[(lane % 16) * 8]);       // rows k = lane % 16 of [k][n]
    else c2f::ldmatrix_x2(fb, &shared_b[(lane % 8) * 16 + ((lane / 8) % 2) * 8]);  // row n, k half (lane / 8) % 2
    float fc[4], fd[4];
    for (int i = 0; i < 4; i++) fc[i] = c[(g + (i / 2) * 8) * 8 + 2 * t + i % 2];
    c2f::mma_m16n8k16_bf16(fd, fa, fb, fc);
    for (int i = 0; i < 4; i++) d[(g + (i / 2) * 8) * 8 + 2 * t + i % 2] = fd[i];
}
C2F_REGISTER_KERNEL(c2f_fragment_mma_by_ldmatrix);
