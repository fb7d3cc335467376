// Device helpers of the memory-bound kernels (rmsnorm, rope, swiglu, rows, logprobs, adamw, reduce):
// 16-byte vector loads and stores of float or bf16 storage into float registers, the split of a range
// into a scalar head, 16-byte vectors and a scalar tail, and warp and block sums.
//
// Tensors may be views at any element offset, so a pointer is only guaranteed aligned to its element.
// Every kernel decides at run time (one uniform branch) whether its pointers allow 16-byte accesses.
#pragma once

namespace c2f {

typedef __nv_bfloat16 bf16;

/// Elements per 16-byte access: 4 float, 8 bf16.
template <typename T>
constexpr int vector_width = 16 / int(sizeof(T));

/// A compile-time access width, passed to the generic lambdas that the range drivers call.
template <int N>
struct Width
{
    static constexpr int value = N;
};

C2F_DEVICE float bf16_low(uint32_t word) { return __uint_as_float(word << 16); }
C2F_DEVICE float bf16_high(uint32_t word) { return __uint_as_float(word & 0xffff0000u); }

/// N consecutive elements at p into floats; N = 1 or a 16-byte vector (p then 16-byte aligned).
template <int N>
C2F_DEVICE void load(const float* p, float (&v)[N])
{
    if constexpr (N == 1) {
        v[0] = p[0];
    } else {
        static_assert(N == 4, "float vectors hold 4");
        const float4 q = *reinterpret_cast<const float4*>(p);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
    }
}

template <int N>
C2F_DEVICE void load(const bf16* p, float (&v)[N])
{
    if constexpr (N == 1) {
        v[0] = __bfloat162float(p[0]);
    } else {
        static_assert(N == 8, "bf16 vectors hold 8");
        const uint4 q = *reinterpret_cast<const uint4*>(p);
        const uint32_t words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            v[2 * i] = bf16_low(words[i]);
            v[2 * i + 1] = bf16_high(words[i]);
        }
    }
}

template <int N>
C2F_DEVICE void store(float* p, const float (&v)[N])
{
    if constexpr (N == 1) {
        p[0] = v[0];
    } else {
        static_assert(N == 4, "float vectors hold 4");
        *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
    }
}

/// Rounds to nearest even, as every bf16 output of these kernels.
template <int N>
C2F_DEVICE void store(bf16* p, const float (&v)[N])
{
    if constexpr (N == 1) {
        p[0] = __float2bfloat16_rn(v[0]);
    } else {
        static_assert(N == 8, "bf16 vectors hold 8");
        *reinterpret_cast<uint4*>(p) = make_uint4(pack_bf16x2(v[0], v[1]), pack_bf16x2(v[2], v[3]),
                                                  pack_bf16x2(v[4], v[5]), pack_bf16x2(v[6], v[7]));
    }
}

/// N floats into storage of an element type other than the range's (a float32 kernel that writes its result as
/// bf16), one element at a time: the range's 16-byte plan is its inputs', whose alignment the output need not share.
template <int N, typename T>
C2F_DEVICE void store_each(T* p, const float (&v)[N])
{
#pragma unroll
    for (int k = 0; k < N; k++) {
        const float one[1] = {v[k]};
        store<1>(p + k, one);
    }
}

/// N floats of a range of element type T into its output: one access of the range's plan when the output is of
/// type T too, else element by element.
template <typename T, int N, typename O>
C2F_DEVICE void store_output(O* p, const float (&v)[N])
{
    if constexpr (sizeof(O) == sizeof(T)) store<N>(p, v);
    else store_each<N>(p, v);
}

/// The distance in elements of p from the previous 16-byte boundary.
template <typename T>
C2F_DEVICE int misalignment(const T* p)
{
    return int((reinterpret_cast<uintptr_t>(p) & 15u) / sizeof(T));
}

/// [0, n) as a scalar head, `vectors` 16-byte vectors from `head` on, and a scalar tail. The vectors are
/// used only when every pointer of the range sits at the same distance from a 16-byte boundary (all of
/// them reach it after the same head); otherwise the whole range is scalar.
struct VectorSplit
{
    long long head;
    long long vectors;
    long long scalars;  // head + tail

    static C2F_DEVICE VectorSplit scalars_only(long long n) { return {n, 0, n}; }

    /// The scalar element of index k < scalars: the head first, then the tail.
    C2F_DEVICE long long scalar(long long k, int width) const { return k < head ? k : k + vectors * width; }
};

template <typename T, typename... Rest>
C2F_DEVICE VectorSplit split_range(long long n, const T* first, const Rest*... rest)
{
    static_assert(((sizeof(Rest) == sizeof(T)) && ...), "one element type per range");
    constexpr int N = vector_width<T>;
    const int offset = misalignment(first);
    const bool same = ((misalignment(rest) == offset) && ...);
    VectorSplit s;
    s.head = same ? min((long long)((N - offset) % N), n) : n;
    s.vectors = (n - s.head) / N;
    s.scalars = n - s.vectors * N;
    return s;
}

/// split_range of the inputs (element type T) and of the output when it has their type; an output of another type
/// is stored element by element (store_output) and takes no part in the plan.
template <typename T, typename O, typename... Rest>
C2F_DEVICE VectorSplit split_with_output(long long n, const O* out, const T* first, const Rest*... rest)
{
    if constexpr (sizeof(O) == sizeof(T)) return split_range(n, first, rest..., reinterpret_cast<const T*>(out));
    else return split_range(n, first, rest...);
}

/// Calls f(i, Width<N>) for every vector (N = vector_width) and every scalar (N = 1) of the split
/// range, spread over `thread` = 0..threads-1 with a stride of `threads`.
template <typename T, typename F>
C2F_DEVICE void for_each_access(const VectorSplit& s, long long thread, long long threads, F&& f)
{
    constexpr int N = vector_width<T>;
    for (long long k = thread; k < s.vectors; k += threads) f(s.head + k * N, Width<N>());
    for (long long k = thread; k < s.scalars; k += threads) f(s.scalar(k, N), Width<1>());
}

/// The value as stored: rounded to bf16 for bf16 storage, unchanged for float.
template <typename T>
C2F_DEVICE float as_stored(float v)
{
    if constexpr (sizeof(T) == 2) return __bfloat162float(__float2bfloat16_rn(v));
    else return v;
}

C2F_DEVICE long long global_thread() { return (long long)blockIdx.x * blockDim.x + threadIdx.x; }
C2F_DEVICE long long global_threads() { return (long long)gridDim.x * blockDim.x; }

template <typename V>
C2F_DEVICE V warp_sum(V value)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

/// The sum over the block (≤ 1024 threads, a multiple of 32), returned to every thread. `slots` is
/// shared memory of 32 values, which the caller must not touch until the next barrier of its own.
template <typename V>
C2F_DEVICE V block_sum(V value, V* slots)
{
    value = warp_sum(value);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    if (lane == 0) slots[warp] = value;
    __syncthreads();
    V total = lane < warps ? slots[lane] : V(0);
    total = warp_sum(total);
    __syncthreads();  // the slots may be reused by the caller's next block_sum
    return total;
}

/// *total += value, added in float64 and rounded to float: a loss or a statistic accumulated on the device over calls.
C2F_DEVICE void add_to_total(float* total, double value)
{
    *total = (float)((double)*total + value);
}

/// The first fault of any thread into record = [code, value, limit]; the host reads and clears it.
/// Codes as src/Mistral.C2F.Engine.Cuda/Kernels/KernelFaults.cs.
C2F_DEVICE void report_fault(int* record, int code, int value, int limit)
{
    if (atomicCAS(record, 0, code) != 0) return;
    record[1] = value;
    record[2] = limit;
}

enum FaultCode : int { GatherRowIndex = 1, ScatterRowIndex = 2, ScatterAddRowIndex = 3, TargetToken = 4 };

}  // namespace c2f
