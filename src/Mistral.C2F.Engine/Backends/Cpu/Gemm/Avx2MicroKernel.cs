using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// AVX2+FMA micro-kernel, 6×16: 12 ymm accumulators, two B vectors and one broadcast of A fill 15 of the
/// 16 registers; 12 independent FMA chains cover two FMA pipes of 4-5 cycles latency.
/// </summary>
internal readonly unsafe struct Avx2MicroKernel : IGemmMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;
    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int depth, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        Vector256<float> c0l = default, c0h = default, c1l = default, c1h = default, c2l = default, c2h = default;
        Vector256<float> c3l = default, c3h = default, c4l = default, c4h = default, c5l = default, c5h = default;
        // The tile of C is only touched after the loop: fetch it now so that its cache misses overlap the FMAs.
        for (int i = 0; i < MR; i++) Sse.Prefetch0(c + i * ldc);
        Vector256<float> ai;
        for (; depth > 0; depth--, a += MR, b += NR)
        {
            var bl = Avx.LoadAlignedVector256(b);
            var bh = Avx.LoadAlignedVector256(b + 8);
            ai = Vector256.Create(a[0]); c0l = Fma.MultiplyAdd(ai, bl, c0l); c0h = Fma.MultiplyAdd(ai, bh, c0h);
            ai = Vector256.Create(a[1]); c1l = Fma.MultiplyAdd(ai, bl, c1l); c1h = Fma.MultiplyAdd(ai, bh, c1h);
            ai = Vector256.Create(a[2]); c2l = Fma.MultiplyAdd(ai, bl, c2l); c2h = Fma.MultiplyAdd(ai, bh, c2h);
            ai = Vector256.Create(a[3]); c3l = Fma.MultiplyAdd(ai, bl, c3l); c3h = Fma.MultiplyAdd(ai, bh, c3h);
            ai = Vector256.Create(a[4]); c4l = Fma.MultiplyAdd(ai, bl, c4l); c4h = Fma.MultiplyAdd(ai, bh, c4h);
            ai = Vector256.Create(a[5]); c5l = Fma.MultiplyAdd(ai, bl, c5l); c5h = Fma.MultiplyAdd(ai, bh, c5h);
        }
        Store(c, c0l, c0h, accumulate);
        Store(c + ldc, c1l, c1h, accumulate);
        Store(c + 2 * ldc, c2l, c2h, accumulate);
        Store(c + 3 * ldc, c3l, c3h, accumulate);
        Store(c + 4 * ldc, c4l, c4h, accumulate);
        Store(c + 5 * ldc, c5l, c5h, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> low, Vector256<float> high, bool accumulate)
    {
        if (accumulate)
        {
            low += Vector256.Load(c);
            high += Vector256.Load(c + 8);
        }
        low.Store(c);
        high.Store(c + 8);
    }
}
