// Fused AdamW (PyTorch's definition, src/Mistral.C2F.Engine/Backends/AdamWStep.cs) with the step's scalars
// folded on the host: g ← scale·grad; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
// p ← p·decay − step_size·m / (√v·inv_sqrt_c2 + ε), step_size = lr/(1−β₁ᵗ), inv_sqrt_c2 = (1−β₂ᵗ)^-½,
// decay = 1 − lr·λ. Each element is read once and written once: 28 bytes per parameter (30 with the
// bf16 copy of the multi-tensor kernel).
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

using c2f::bf16;

namespace {

struct Hyper
{
    float gradient_scale, beta1, beta2, step_size, inv_sqrt_c2, epsilon, decay;

    C2F_DEVICE void update(float& p, float g, float& m, float& v) const
    {
        g *= gradient_scale;
        m = beta1 * m + (1.0f - beta1) * g;
        v = beta2 * v + (1.0f - beta2) * g * g;
        p = p * decay - step_size * m / (sqrtf(v) * inv_sqrt_c2 + epsilon);
    }
};

/// Updates elements [0, n) of one tensor from `thread` with a stride of `threads`; writes the new weights
/// rounded to bf16 into `copy` unless it is null.
C2F_DEVICE void update_range(const Hyper& h, float* p, const float* g, float* m, float* v, bf16* copy, long long n,
                             long long thread, long long threads)
{
    c2f::VectorSplit s = c2f::split_range(n, p, g, m, v);
    // A vector of 4 floats has a bf16 copy of 8 bytes, which must be 8-byte aligned.
    if (copy && (reinterpret_cast<uintptr_t>(copy + s.head) & 7) != 0) s = c2f::VectorSplit::scalars_only(n);
    c2f::for_each_access<float>(s, thread, threads, [&](long long i, auto w) {
        constexpr int N = decltype(w)::value;
        float pv[N], gv[N], mv[N], vv[N];
        c2f::load<N>(p + i, pv);
        c2f::load<N>(g + i, gv);
        c2f::load<N>(m + i, mv);
        c2f::load<N>(v + i, vv);
#pragma unroll
        for (int k = 0; k < N; k++) h.update(pv[k], gv[k], mv[k], vv[k]);
        c2f::store<N>(p + i, pv);
        c2f::store<N>(m + i, mv);
        c2f::store<N>(v + i, vv);
        if (!copy) return;
        if constexpr (N == 1) {
            copy[i] = __float2bfloat16_rn(pv[0]);
        } else {
            *reinterpret_cast<uint2*>(copy + i) = make_uint2(c2f::pack_bf16x2(pv[0], pv[1]), c2f::pack_bf16x2(pv[2], pv[3]));
        }
    });
}

/// One parameter of the multi-tensor kernel: 64 bytes, the layout of AdamWKernels.TensorEntry (C#).
struct TensorEntry
{
    float* parameter;
    const float* gradient;
    float* first_moment;
    float* second_moment;
    bf16* copy;              // null: no bf16 copy
    long long count;         // elements
    long long first_chunk;   // chunks of all earlier entries
    int weight_decay;        // 0: no decay (norms), else decoupled decay
    int padding;
};

}  // namespace

extern "C" __global__ void __launch_bounds__(256)
c2f_adamw_step_f32(float* parameter, const float* gradient, float* first_moment, float* second_moment, int n,
                   float gradient_scale, float beta1, float beta2, float step_size, float inv_sqrt_c2, float epsilon, float decay)
{
    const Hyper h{gradient_scale, beta1, beta2, step_size, inv_sqrt_c2, epsilon, decay};
    update_range(h, parameter, gradient, first_moment, second_moment, nullptr, n, c2f::global_thread(), c2f::global_threads());
}
C2F_REGISTER_KERNEL(c2f_adamw_step_f32);

/// Every parameter in one launch: the tensors are cut into chunks of `chunk_elements` (a multiple of 4),
/// numbered across the table; a block takes chunks with a grid stride and finds each chunk's tensor by
/// binary search over first_chunk. Decay applies only to entries with weight_decay set.
/// With a guard (guard_loss and guard_norm not null; Backends/AdamWGuard.cs) the step's loss and gradient norm,
/// left on the device by the reductions before it, decide: nothing changes unless both are finite, and the
/// gradient is clipped to max_norm (when > 0) by the host's formula, in double, so both paths round alike.
extern "C" __global__ void __launch_bounds__(256)
c2f_adamw_multi_f32(const TensorEntry* table, int tensors, int total_chunks, int chunk_elements, float gradient_scale,
                    float beta1, float beta2, float step_size, float inv_sqrt_c2, float epsilon, float decay,
                    const float* guard_loss, const float* guard_norm, float max_norm)
{
    if (guard_loss) {
        const float loss = *guard_loss, norm = *guard_norm;
        if (isnan(loss) || isinf(loss) || isnan(norm) || isinf(norm)) return;
        if (max_norm > 0 && norm > max_norm)
            gradient_scale = (float)((double)gradient_scale * ((double)max_norm / ((double)norm + 1e-6)));
    }
    for (int chunk = blockIdx.x; chunk < total_chunks; chunk += gridDim.x) {
        int low = 0, high = tensors - 1;  // the last entry whose first_chunk ≤ chunk
        while (low < high) {
            const int mid = (low + high + 1) / 2;
            if (table[mid].first_chunk <= chunk) low = mid;
            else high = mid - 1;
        }
        const TensorEntry& t = table[low];
        const long long start = (chunk - t.first_chunk) * chunk_elements;
        const long long n = min((long long)chunk_elements, t.count - start);
        const Hyper h{gradient_scale, beta1, beta2, step_size, inv_sqrt_c2, epsilon, t.weight_decay ? decay : 1.0f};
        update_range(h, t.parameter + start, t.gradient + start, t.first_moment + start, t.second_moment + start,
                     t.copy ? t.copy + start : nullptr, n, threadIdx.x, blockDim.x);
    }
}
C2F_REGISTER_KERNEL(c2f_adamw_multi_f32);
