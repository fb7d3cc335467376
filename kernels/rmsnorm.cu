// RMSNorm forward (optionally fused with the residual add before it) and backward.
// A block owns a row at a time (grid-stride over rows): its threads stride the row in 16-byte vectors
// (or scalars when the row is off a 16-byte boundary), the row's sum is a block reduction, and the
// second pass re-reads the row, which is still in L1, so DRAM sees each input once.
//
// The weight gradient, a sum over rows, is deterministic and free of atomics: each block adds its rows'
// contributions, in row order, into a row of shared memory, writes it as one row of partials, and a second
// kernel adds the partials of every column in block order.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

using c2f::bf16;

namespace {

// y = x·r·w with r = (mean x² + ε)^-½. With a residual, the sum x + residual is stored into `sum`
// (the residual stream; sum may be x, updating it in place) and normalised instead. y may be stored as
// bf16 from float32 inputs (Y = bf16): the input of a bf16 product, written once in the type it reads.
template <typename T, typename Y = T>
C2F_DEVICE void rmsnorm_forward(const T* x, const T* __restrict__ residual, T* sum, const T* __restrict__ weight,
                                Y* __restrict__ y, float* __restrict__ inverse_rms, int rows, int width, float epsilon)
{
    __shared__ float slots[32];
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const long long start = (long long)row * width;
        const T* xr = x + start;
        const T* rr = residual ? residual + start : xr;
        T* sr = sum ? sum + start : const_cast<T*>(xr);  // without a residual never written: only its alignment counts
        Y* yr = y + start;
        const c2f::VectorSplit s = c2f::split_with_output<T>(width, yr, xr, rr, sr, weight);
        float sum_of_squares = 0;
        c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
            constexpr int N = decltype(w)::value;
            float v[N];
            c2f::load<N>(xr + i, v);
            if (residual) {
                float r[N];
                c2f::load<N>(rr + i, r);
#pragma unroll
                for (int k = 0; k < N; k++) v[k] = c2f::as_stored<T>(v[k] + r[k]);
                c2f::store<N>(sr + i, v);
            }
#pragma unroll
            for (int k = 0; k < N; k++) sum_of_squares += v[k] * v[k];
        });
        const float r = rsqrtf(c2f::block_sum(sum_of_squares, slots) / width + epsilon);
        // Each thread re-reads exactly the elements it stored above, so no barrier is needed.
        const T* normalised = residual ? sr : xr;
        c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
            constexpr int N = decltype(w)::value;
            float v[N], g[N];
            c2f::load<N>(normalised + i, v);
            c2f::load<N>(weight + i, g);
#pragma unroll
            for (int k = 0; k < N; k++) v[k] = v[k] * r * g[k];
            c2f::store_output<T>(yr + i, v);
        });
        if (inverse_rms && threadIdx.x == 0) inverse_rms[row] = r;
    }
}

// dx += r·w·dy − x·r³/H·Σ(dy·w·x);  the block's share of dw: Σ over its rows of dy·x·r.
// Dynamic shared memory: `width` floats when weight_grad_partials is set, else none.
template <typename T>
C2F_DEVICE void rmsnorm_backward(const T* __restrict__ x, const T* __restrict__ weight, const float* __restrict__ inverse_rms,
                                 const T* __restrict__ out_grad, T* __restrict__ in_grad,
                                 float* __restrict__ weight_grad_partials, int rows, int width)
{
    __shared__ float slots[32];
    C2F_DYNAMIC_SHARED(float, block_weight_grad);
    const bool weight_grad = weight_grad_partials != nullptr;
    if (weight_grad)
        for (int c = threadIdx.x; c < width; c += blockDim.x) block_weight_grad[c] = 0;
    // The barriers of block_sum separate one row's shared-memory updates from the next row's, whose
    // column-to-thread mapping may differ (rows start at different alignments).
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + (long long)row * width;
        const T* dyr = out_grad + (long long)row * width;
        T* dxr = in_grad + (long long)row * width;
        const c2f::VectorSplit s = c2f::split_range(width, xr, weight, dyr, dxr);
        float dot = 0;
        c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
            constexpr int N = decltype(w)::value;
            float v[N], g[N], d[N];
            c2f::load<N>(xr + i, v);
            c2f::load<N>(weight + i, g);
            c2f::load<N>(dyr + i, d);
#pragma unroll
            for (int k = 0; k < N; k++) dot += d[k] * g[k] * v[k];
        });
        const float r = inverse_rms[row];
        const float projection = r * r * r * c2f::block_sum(dot, slots) / width;
        c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
            constexpr int N = decltype(w)::value;
            float v[N], g[N], d[N], dx[N];
            c2f::load<N>(xr + i, v);
            c2f::load<N>(weight + i, g);
            c2f::load<N>(dyr + i, d);
            c2f::load<N>(dxr + i, dx);
#pragma unroll
            for (int k = 0; k < N; k++) {
                dx[k] += r * g[k] * d[k] - v[k] * projection;
                if (weight_grad) block_weight_grad[i + k] += d[k] * v[k] * r;
            }
            c2f::store<N>(dxr + i, dx);
        });
    }
    if (!weight_grad) return;
    __syncthreads();
    float* partials = weight_grad_partials + (long long)blockIdx.x * width;
    for (int c = threadIdx.x; c < width; c += blockDim.x) partials[c] = block_weight_grad[c];
}

}  // namespace

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_forward_f32(const float* x, const float* weight, float* y, float* inverse_rms, int rows, int width, float epsilon)
{
    rmsnorm_forward<float>(x, nullptr, nullptr, weight, y, inverse_rms, rows, width, epsilon);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_forward_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_forward_bf16(const bf16* x, const bf16* weight, bf16* y, float* inverse_rms, int rows, int width, float epsilon)
{
    rmsnorm_forward<bf16>(x, nullptr, nullptr, weight, y, inverse_rms, rows, width, epsilon);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_forward_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_forward_f32_to_bf16(const float* x, const float* weight, bf16* y, float* inverse_rms, int rows, int width, float epsilon)
{
    rmsnorm_forward<float, bf16>(x, nullptr, nullptr, weight, y, inverse_rms, rows, width, epsilon);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_forward_f32_to_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_residual_forward_f32(const float* x, const float* residual, float* sum, const float* weight, float* y,
                                 float* inverse_rms, int rows, int width, float epsilon)
{
    rmsnorm_forward(x, residual, sum, weight, y, inverse_rms, rows, width, epsilon);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_residual_forward_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_residual_forward_bf16(const bf16* x, const bf16* residual, bf16* sum, const bf16* weight, bf16* y,
                                  float* inverse_rms, int rows, int width, float epsilon)
{
    rmsnorm_forward(x, residual, sum, weight, y, inverse_rms, rows, width, epsilon);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_residual_forward_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_residual_forward_f32_to_bf16(const float* x, const float* residual, float* sum, const float* weight, bf16* y,
                                         float* inverse_rms, int rows, int width, float epsilon)
{
    rmsnorm_forward(x, residual, sum, weight, y, inverse_rms, rows, width, epsilon);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_residual_forward_f32_to_bf16);

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_backward_f32(const float* x, const float* weight, const float* inverse_rms, const float* out_grad, float* in_grad,
                         float* weight_grad_partials, int rows, int width)
{
    rmsnorm_backward(x, weight, inverse_rms, out_grad, in_grad, weight_grad_partials, rows, width);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_backward_f32);

extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_backward_bf16(const bf16* x, const bf16* weight, const float* inverse_rms, const bf16* out_grad, bf16* in_grad,
                          float* weight_grad_partials, int rows, int width)
{
    rmsnorm_backward(x, weight, inverse_rms, out_grad, in_grad, weight_grad_partials, rows, width);
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_backward_bf16);

/// weight_grad[c] += Σ_b partials[b, c], b in order: the second stage of the weight gradient.
extern "C" __global__ void __launch_bounds__(256)
c2f_rmsnorm_weight_grad_sum_f32(const float* partials, int blocks, float* weight_grad, int width)
{
    for (long long c = c2f::global_thread(); c < width; c += c2f::global_threads()) {
        float sum = 0;
        for (int b = 0; b < blocks; b++) sum += partials[(long long)b * width + c];
        weight_grad[c] += sum;
    }
}
C2F_REGISTER_KERNEL(c2f_rmsnorm_weight_grad_sum_f32);
