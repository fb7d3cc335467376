// Token log-probabilities of logits [rows, vocab] (vocabularies of ~150k): per row the log-probability of
// the target token (0 where the target is negative, a masked position), the log-sum-exp, and optionally
// the entropy of the softmax; and the backward, which accumulates into d(logits).
//
// A block owns a row at a time and streams it once in 16-byte vectors (a scalar head and tail for rows off
// a 16-byte boundary, e.g. an odd vocabulary). Forward: each thread keeps an online softmax state
// (max m, S = Σ e^(z−m), T = Σ e^(z−m)·(z−m)) that merges across threads; lse = m + log S and
// H = log S − T/S, so the entropy never subtracts two large numbers. A NaN logit makes m, and with it its row's
// log-sum-exp, entropy, log-prob (a masked target's stays 0) and gradients, NaN. Backward: one pass, each element's
// gradient written by its own thread. A target ≥ vocab is reported in the fault record and never read.
#include "c2f/cuda.cuh"
#include "c2f/vector_io.cuh"

using c2f::bf16;

namespace {

// Plain data (no constructor), so that it can live in __shared__.
struct SoftmaxState
{
    float max;
    float sum;       // Σ e^(z − max)
    float weighted;  // Σ e^(z − max)·(z − max)

    static C2F_DEVICE SoftmaxState empty() { return {-INFINITY, 0, 0}; }

    C2F_DEVICE void raise_max(float new_max)
    {
        if (sum == 0) {
            max = new_max;
            return;
        }
        const float shift = max - new_max, f = __expf(shift);
        weighted = f * (weighted + shift * sum);
        sum *= f;
        max = new_max;
    }

    template <int N>
    C2F_DEVICE void add(const float (&z)[N])
    {
        float local_max = z[0];
#pragma unroll
        for (int k = 1; k < N; k++) local_max = c2f::max_nan(local_max, z[k]);
        if (!(local_max <= max)) raise_max(local_max);  // also for a NaN, which then poisons the whole state
#pragma unroll
        for (int k = 0; k < N; k++) {
            const float d = z[k] - max, e = __expf(d);
            if (e != 0) {  // skips −inf logits, whose e·d would be NaN (and underflows, which add 0), never a NaN
                sum += e;
                weighted += e * d;
            }
        }
    }

    C2F_DEVICE void merge(const SoftmaxState& other)
    {
        if (other.sum == 0) return;
        if (sum == 0) {
            *this = other;
            return;
        }
        const float m = c2f::max_nan(max, other.max), d1 = max - m, d2 = other.max - m;
        const float f1 = __expf(d1), f2 = __expf(d2);
        weighted = f1 * (weighted + d1 * sum) + f2 * (other.weighted + d2 * other.sum);
        sum = f1 * sum + f2 * other.sum;
        max = m;
    }
};

/// The state of the whole block, in thread 0.
C2F_DEVICE SoftmaxState block_state(SoftmaxState state, SoftmaxState* slots)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
        state.merge({__shfl_xor_sync(0xffffffffu, state.max, offset), __shfl_xor_sync(0xffffffffu, state.sum, offset),
                     __shfl_xor_sync(0xffffffffu, state.weighted, offset)});
    }
    if (threadIdx.x % 32 == 0) slots[threadIdx.x / 32] = state;
    __syncthreads();
    if (threadIdx.x == 0)
        for (int w = 1; w < int(blockDim.x / 32); w++) state.merge(slots[w]);
    return state;
}

template <typename T>
C2F_DEVICE void forward(const T* __restrict__ logits, const int* __restrict__ targets, float* __restrict__ log_probs,
                        float* __restrict__ log_sum_exp, float* __restrict__ entropy, int rows, int vocab, int* fault)
{
    __shared__ SoftmaxState slots[32];
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* z = logits + (long long)row * vocab;
        const c2f::VectorSplit s = c2f::split_range(vocab, z);
        SoftmaxState state = SoftmaxState::empty();
        c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
            constexpr int N = decltype(w)::value;
            float v[N];
            c2f::load<N>(z + i, v);
            state.add(v);
        });
        state = block_state(state, slots);
        if (threadIdx.x == 0) {
            const float log_sum = logf(state.sum), lse = state.max + log_sum;
            const int target = targets[row];
            if (target >= vocab) c2f::report_fault(fault, c2f::TargetToken, target, vocab);
            float log_prob = 0, target_logit[1];
            if (target >= 0 && target < vocab) {
                c2f::load<1>(z + target, target_logit);
                log_prob = target_logit[0] - lse;
            }
            log_sum_exp[row] = lse;
            log_probs[row] = log_prob;
            if (entropy) entropy[row] = log_sum - state.weighted / state.sum;
        }
        __syncthreads();  // the slots are refilled by the next row
    }
}

// dz_v += a·(1[v = t] − p_v) − b·p_v·(log p_v + H), a the log-prob gradient (0 when masked), b the entropy's.
template <typename T>
C2F_DEVICE void backward(const T* __restrict__ logits, const int* __restrict__ targets, const float* __restrict__ log_sum_exp,
                         const float* __restrict__ log_prob_grad, const float* __restrict__ entropy,
                         const float* __restrict__ entropy_grad, T* __restrict__ logits_grad, int rows, int vocab, int* fault)
{
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const int target = targets[row];
        if (target >= vocab) {
            if (threadIdx.x == 0) c2f::report_fault(fault, c2f::TargetToken, target, vocab);
            continue;
        }
        if (target < 0 && !entropy) continue;  // a masked row is read by nothing: adding −p·0 would turn a NaN logit into a NaN gradient
        const float a = target < 0 ? 0.0f : log_prob_grad[row];
        const float b = entropy ? entropy_grad[row] : 0.0f, h = entropy ? entropy[row] : 0.0f;
        const float lse = log_sum_exp[row];
        const T* z = logits + (long long)row * vocab;
        T* dz = logits_grad + (long long)row * vocab;
        const c2f::VectorSplit s = c2f::split_range(vocab, z, dz);
        c2f::for_each_access<T>(s, threadIdx.x, blockDim.x, [&](long long i, auto w) {
            constexpr int N = decltype(w)::value;
            float v[N], g[N];
            c2f::load<N>(z + i, v);
            c2f::load<N>(dz + i, g);
#pragma unroll
            for (int k = 0; k < N; k++) {
                const float log_p = v[k] - lse, p = __expf(log_p);
                const float entropy_term = p > 0 ? b * (log_p + h) : 0.0f;  // p·log p → 0 as p → 0
                g[k] += (i + k == target ? a : 0.0f) - p * (a + entropy_term);
            }
            c2f::store<N>(dz + i, g);
        });
    }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(512)
c2f_logprobs_forward_f32(const float* logits, const int* targets, float* log_probs, float* log_sum_exp, float* entropy,
                         int rows, int vocab, int* fault)
{
    forward(logits, targets, log_probs, log_sum_exp, entropy, rows, vocab, fault);
}
C2F_REGISTER_KERNEL(c2f_logprobs_forward_f32);

extern "C" __global__ void __launch_bounds__(512)
c2f_logprobs_forward_bf16(const bf16* logits, const int* targets, float* log_probs, float* log_sum_exp, float* entropy,
                          int rows, int vocab, int* fault)
{
    forward(logits, targets, log_probs, log_sum_exp, entropy, rows, vocab, fault);
}
C2F_REGISTER_KERNEL(c2f_logprobs_forward_bf16);

extern "C" __global__ void __launch_bounds__(512)
c2f_logprobs_backward_f32(const float* logits, const int* targets, const float* log_sum_exp, const float* log_prob_grad,
                          const float* entropy, const float* entropy_grad, float* logits_grad, int rows, int vocab, int* fault)
{
    backward(logits, targets, log_sum_exp, log_prob_grad, entropy, entropy_grad, logits_grad, rows, vocab, fault);
}
C2F_REGISTER_KERNEL(c2f_logprobs_backward_f32);

extern "C" __global__ void __launch_bounds__(512)
c2f_logprobs_backward_bf16(const bf16* logits, const int* targets, const float* log_sum_exp, const float* log_prob_grad,
                           const float* entropy, const float* entropy_grad, bf16* logits_grad, int rows, int vocab, int* fault)
{
    backward(logits, targets, log_sum_exp, log_prob_grad, entropy, entropy_grad, logits_grad, rows, vocab, fault);
}
C2F_REGISTER_KERNEL(c2f_logprobs_backward_bf16);
