using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// AVX-512 micro-kernel, 12×32: 24 zmm accumulators (two 16-float vectors per row of C) leave room for
/// the two B vectors and one broadcast of A within the 32 registers. 24 independent FMA chains cover the
/// 4-cycle latency of Zen 5's two 512-bit FMA pipes three times over.
/// </summary>
internal readonly unsafe struct Avx512MicroKernel : IGemmMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;
    public static int Lanes => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int depth, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        Vector512<float> c0l = default, c0h = default, c1l = default, c1h = default, c2l = default, c2h = default;
        Vector512<float> c3l = default, c3h = default, c4l = default, c4h = default, c5l = default, c5h = default;
        Vector512<float> c6l = default, c6h = default, c7l = default, c7h = default, c8l = default, c8h = default;
        Vector512<float> c9l = default, c9h = default, c10l = default, c10h = default, c11l = default, c11h = default;
        // The tile of C is only touched after the loop: fetch it now so that its cache misses overlap the FMAs.
        for (int i = 0; i < MR; i++)
        {
            Sse.Prefetch0(c + i * ldc);
            Sse.Prefetch0(c + i * ldc + NR - 1);
        }
        Vector512<float> ai;
        for (; depth > 0; depth--, a += MR, b += NR)
        {
            var bl = Avx512F.LoadAlignedVector512(b);
            var bh = Avx512F.LoadAlignedVector512(b + 16);
            ai = Vector512.Create(a[0]); c0l = Avx512F.FusedMultiplyAdd(ai, bl, c0l); c0h = Avx512F.FusedMultiplyAdd(ai, bh, c0h);
            ai = Vector512.Create(a[1]); c1l = Avx512F.FusedMultiplyAdd(ai, bl, c1l); c1h = Avx512F.FusedMultiplyAdd(ai, bh, c1h);
            ai = Vector512.Create(a[2]); c2l = Avx512F.FusedMultiplyAdd(ai, bl, c2l); c2h = Avx512F.FusedMultiplyAdd(ai, bh, c2h);
            ai = Vector512.Create(a[3]); c3l = Avx512F.FusedMultiplyAdd(ai, bl, c3l); c3h = Avx512F.FusedMultiplyAdd(ai, bh, c3h);
            ai = Vector512.Create(a[4]); c4l = Avx512F.FusedMultiplyAdd(ai, bl, c4l); c4h = Avx512F.FusedMultiplyAdd(ai, bh, c4h);
            ai = Vector512.Create(a[5]); c5l = Avx512F.FusedMultiplyAdd(ai, bl, c5l); c5h = Avx512F.FusedMultiplyAdd(ai, bh, c5h);
            ai = Vector512.Create(a[6]); c6l = Avx512F.FusedMultiplyAdd(ai, bl, c6l); c6h = Avx512F.FusedMultiplyAdd(ai, bh, c6h);
            ai = Vector512.Create(a[7]); c7l = Avx512F.FusedMultiplyAdd(ai, bl, c7l); c7h = Avx512F.FusedMultiplyAdd(ai, bh, c7h);
            ai = Vector512.Create(a[8]); c8l = Avx512F.FusedMultiplyAdd(ai, bl, c8l); c8h = Avx512F.FusedMultiplyAdd(ai, bh, c8h);
            ai = Vector512.Create(a[9]); c9l = Avx512F.FusedMultiplyAdd(ai, bl, c9l); c9h = Avx512F.FusedMultiplyAdd(ai, bh, c9h);
            ai = Vector512.Create(a[10]); c10l = Avx512F.FusedMultiplyAdd(ai, bl, c10l); c10h = Avx512F.FusedMultiplyAdd(ai, bh, c10h);
            ai = Vector512.Create(a[11]); c11l = Avx512F.FusedMultiplyAdd(ai, bl, c11l); c11h = Avx512F.FusedMultiplyAdd(ai, bh, c11h);
        }
        Store(c, c0l, c0h, accumulate);
        Store(c + ldc, c1l, c1h, accumulate);
        Store(c + 2 * ldc, c2l, c2h, accumulate);
        Store(c + 3 * ldc, c3l, c3h, accumulate);
        Store(c + 4 * ldc, c4l, c4h, accumulate);
        Store(c + 5 * ldc, c5l, c5h, accumulate);
        Store(c + 6 * ldc, c6l, c6h, accumulate);
        Store(c + 7 * ldc, c7l, c7h, accumulate);
        Store(c + 8 * ldc, c8l, c8h, accumulate);
        Store(c + 9 * ldc, c9l, c9h, accumulate);
        Store(c + 10 * ldc, c10l, c10h, accumulate);
        Store(c + 11 * ldc, c11l, c11h, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> low, Vector512<float> high, bool accumulate)
    {
        if (accumulate)
        {
            low += Vector512.Load(c);
            high += Vector512.Load(c + 16);
        }
        low.Store(c);
        high.Store(c + 16);
    }
}
