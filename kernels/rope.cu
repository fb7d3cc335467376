// Rotary embedding in place on x [tokens, heads·head_dim] (or from float32 x into a bf16 out), rotate-half
// pairing: dimension d rotates with d + head_dim/2 by the angle position·θ^(−2d/head_dim) (minus that angle
// for the backward).
//
// A block owns a token at a time: threadIdx.x strides the dimensions d < head_dim/2 (16-byte vectors of
// both halves when x and the half-head are 16-byte aligned), threadIdx.y strides the heads, so each angle
// is computed once per token and reused across the heads.
//
// Accuracy: at position 32k the angle is ~3e4 rad, where a float32 angle would be off by ~2e-3. The angle
// is therefore formed in float64, as r^d·position with r = θ^(−2/head_dim) from the host (r^d by squaring:
// only float64 multiplies), reduced to [−π, π] in float64, and only then handed to float32 sine and cosine.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

using c2f::bf16;

namespace {

C2F_DEVICE double power(double value, int exponent)
{
    double result = 1;
    for (; exponent > 0; exponent >>= 1, value *= value)
        if (exponent & 1) result *= value;
    return result;
}

C2F_DEVICE void rotation(int position, int d, double frequency_ratio, float sign, float& cosine, float& sine)
{
    constexpr double two_pi = 6.283185307179586476925286766559;
    const double angle = position * power(frequency_ratio, d);
    const float reduced = float(angle - rint(angle * (1 / two_pi)) * two_pi);
    cosine = cosf(reduced);
    sine = sign * sinf(reduced);
}

// Rotates the token's row of x into out's (the same row when in place). With out of another type than x (float32 math,
// the result rounded to bf16 on store) the stores are element by element.
template <int N, typename T, typename O>
C2F_DEVICE void rotate_token(const T* row, O* out_row, int position, int heads, int head_dim, double frequency_ratio, float sign)
{
    const int half = head_dim / 2;
    for (int d0 = threadIdx.x * N; d0 < half; d0 += blockDim.x * N) {
        float cosine[N], sine[N];
#pragma unroll
        for (int k = 0; k < N; k++) rotation(position, d0 + k, frequency_ratio, sign, cosine[k], sine[k]);
        for (int h = threadIdx.y; h < heads; h += blockDim.y) {
            const T* first = row + (long long)h * head_dim + d0;
            O* out_first = out_row + (long long)h * head_dim + d0;
            float x1[N], x2[N], y1[N], y2[N];
            c2f::load<N>(first, x1);
            c2f::load<N>(first + half, x2);
#pragma unroll
            for (int k = 0; k < N; k++) {
                y1[k] = x1[k] * cosine[k] - x2[k] * sine[k];
                y2[k] = x2[k] * cosine[k] + x1[k] * sine[k];
            }
            c2f::store_output<T>(out_first, y1);
            c2f::store_output<T>(out_first + half, y2);
        }
    }
}

template <typename T, typename O>
C2F_DEVICE void rope(const T* x, O* out, const int* __restrict__ positions, int tokens, int heads, int head_dim,
                     double frequency_ratio, int inverse)
{
    constexpr int N = c2f::vector_width<T>;
    // Rows, heads and halves all start on 16-byte boundaries when x does and the half-head is whole vectors.
    const bool vectors = c2f::misalignment(x) == 0 && (head_dim / 2) % N == 0;
    const float sign = inverse ? -1.0f : 1.0f;
    for (int token = blockIdx.x; token < tokens; token += gridDim.x) {
        const long long start = (long long)token * heads * head_dim;
        if (vectors) rotate_token<N>(x + start, out + start, positions[token], heads, head_dim, frequency_ratio, sign);
        else rotate_token<1>(x + start, out + start, positions[token], heads, head_dim, frequency_ratio, sign);
    }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(256)
c2f_rope_f32(float* x, const int* positions, int tokens, int heads, int head_dim, double frequency_ratio, int inverse)
{
    rope(x, x, positions, tokens, heads, head_dim, frequency_ratio, inverse);
}
C2F_REGISTER_KERNEL(c2f_rope_f32);

// Out of place: x (float32) stays as it was, its rotation is stored into out as bf16 (q or k for flash attention).
extern "C" __global__ void __launch_bounds__(256)
c2f_rope_f32_to_bf16(const float* x, bf16* out, const int* positions, int tokens, int heads, int head_dim,
                     double frequency_ratio, int inverse)
{
    rope(x, out, positions, tokens, heads, head_dim, frequency_ratio, inverse);
}
C2F_REGISTER_KERNEL(c2f_rope_f32_to_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_rope_bf16(bf16* x, const int* positions, int tokens, int heads, int head_dim, double frequency_ratio, int inverse)
{
    rope(x, x, positions, tokens, heads, head_dim, frequency_ratio, inverse);
}
C2F_REGISTER_KERNEL(c2f_rope_bf16);
