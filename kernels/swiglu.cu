// SwiGLU forward and backward, and the elementwise Add of the residual stream: grid-stride loops over
// 16-byte vectors (scalar head and tail for views off a 16-byte boundary), float32 math.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

using c2f::bf16;

namespace {

C2F_DEVICE float sigmoid(float g) { return 1.0f / (1.0f + __expf(-g)); }

// out = silu(gate)·up = gate·σ(gate)·up; out may be stored as bf16 from float32 inputs (O = bf16), for the
// bf16 product that reads it.
template <typename T, typename O = T>
C2F_DEVICE void swiglu_forward(const T* __restrict__ gate, const T* __restrict__ up, O* __restrict__ out, int n)
{
    const c2f::VectorSplit s = c2f::split_with_output<T>(n, out, gate, up);
    c2f::for_each_access<T>(s, c2f::global_thread(), c2f::global_threads(), [&](long long i, auto width) {
        constexpr int N = decltype(width)::value;
        float g[N], u[N];
        c2f::load<N>(gate + i, g);
        c2f::load<N>(up + i, u);
#pragma unroll
        for (int k = 0; k < N; k++) g[k] = g[k] * sigmoid(g[k]) * u[k];
        c2f::store_output<T>(out + i, g);
    });
}

// With s = σ(g): d(gate) += dout·u·s·(1 + g·(1 − s)), d(up) += dout·g·s.
C2F_DEVICE void swiglu_backward(const float* __restrict__ gate, const float* __restrict__ up,
                                const float* __restrict__ out_grad, float* __restrict__ gate_grad,
                                float* __restrict__ up_grad, int n)
{
    const c2f::VectorSplit s = c2f::split_range(n, gate, up, out_grad, gate_grad, up_grad);
    c2f::for_each_access<float>(s, c2f::global_thread(), c2f::global_threads(), [&](long long i, auto width) {
        constexpr int N = decltype(width)::value;
        float g[N], u[N], d[N], dg[N], du[N];
        c2f::load<N>(gate + i, g);
        c2f::load<N>(up + i, u);
        c2f::load<N>(out_grad + i, d);
        c2f::load<N>(gate_grad + i, dg);
        c2f::load<N>(up_grad + i, du);
#pragma unroll
        for (int k = 0; k < N; k++) {
            const float sg = sigmoid(g[k]);
            dg[k] += d[k] * u[k] * sg * (1.0f + g[k] * (1.0f - sg));
            du[k] += d[k] * g[k] * sg;
        }
        c2f::store<N>(gate_grad + i, dg);
        c2f::store<N>(up_grad + i, du);
    });
}

// out = a + b. No __restrict__: out may be a or b; every element is read before the same thread writes it.
template <typename T>
C2F_DEVICE void add(const T* a, const T* b, T* out, int n)
{
    const c2f::VectorSplit s = c2f::split_range(n, a, b, out);
    c2f::for_each_access<T>(s, c2f::global_thread(), c2f::global_threads(), [&](long long i, auto width) {
        constexpr int N = decltype(width)::value;
        float x[N], y[N];
        c2f::load<N>(a + i, x);
        c2f::load<N>(b + i, y);
#pragma unroll
        for (int k = 0; k < N; k++) x[k] += y[k];
        c2f::store<N>(out + i, x);
    });
}

}  // namespace

extern "C" __global__ void __launch_bounds__(256)
c2f_swiglu_forward_f32(const float* gate, const float* up, float* out, int n)
{
    swiglu_forward(gate, up, out, n);
}
C2F_REGISTER_KERNEL(c2f_swiglu_forward_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_swiglu_forward_bf16(const bf16* gate, const bf16* up, bf16* out, int n)
{
    swiglu_forward(gate, up, out, n);
}
C2F_REGISTER_KERNEL(c2f_swiglu_forward_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_swiglu_forward_f32_to_bf16(const float* gate, const float* up, bf16* out, int n)
{
    swiglu_forward(gate, up, out, n);
}
C2F_REGISTER_KERNEL(c2f_swiglu_forward_f32_to_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_swiglu_backward_f32(const float* gate, const float* up, const float* out_grad, float* gate_grad, float* up_grad, int n)
{
    swiglu_backward(gate, up, out_grad, gate_grad, up_grad, n);
}
C2F_REGISTER_KERNEL(c2f_swiglu_backward_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_swiglu_add_f32(const float* a, const float* b, float* out, int n)
{
    add(a, b, out, n);
}
C2F_REGISTER_KERNEL(c2f_swiglu_add_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_swiglu_add_bf16(const bf16* a, const bf16* b, bf16* out, int n)
{
    add(a, b, out, n);
}
C2F_REGISTER_KERNEL(c2f_swiglu_add_bf16);
