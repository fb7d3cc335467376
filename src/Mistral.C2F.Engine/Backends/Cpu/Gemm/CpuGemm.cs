using System.Runtime.Intrinsics.X86;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>Single-precision GEMM, C (+)= op(A)·op(B), all matrices row-major and dense.</summary>
internal static unsafe class CpuGemm
{
    /// <summary>The fastest micro-kernel this machine supports.</summary>
    public static GemmKernel BestKernel { get; } =
        Avx512F.IsSupported ? GemmKernel.Avx512 : Avx2.IsSupported && Fma.IsSupported ? GemmKernel.Avx2 : GemmKernel.Scalar;

    public static bool IsSupported(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Avx512 => Avx512F.IsSupported,
        GemmKernel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, CpuParallel parallel) =>
        Multiply(a, b, c, m, n, k, transposeA, transposeB, accumulate, parallel, BestKernel);

    /// <summary>The same product on a chosen micro-kernel (tests run every kernel on one machine).</summary>
    internal static void Multiply(float* a, float* b, float* c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate,
        CpuParallel parallel, GemmKernel kernel)
    {
        if (!IsSupported(kernel)) throw new PlatformNotSupportedException($"GEMM micro-kernel {kernel} is not supported on this processor");
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            if (!accumulate)
                for (long i = 0; i < m; i++) new Span<float>(c + i * n, n).Clear();
            return;
        }
        if (SmallGemm.Handles(m, transposeB))
        {
            SmallGemm.Multiply(a, b, c, m, n, k, transposeA, transposeB, accumulate, parallel);
            return;
        }
        if (n == 1)
        {
            // An m×1 C is also a 1×m row: C = op(B)ᵀ·op(A)ᵀ, where a vector's layout is the same both ways.
            SmallGemm.Multiply(b, a, c, 1, m, k, transposeA: false, transposeB: !transposeA, accumulate, parallel);
            return;
        }
        var left = GemmOperand.Left(a, m, k, transposeA);
        var right = GemmOperand.Right(b, n, k, transposeB);
        switch (kernel)
        {
            case GemmKernel.Avx512: BlockedGemm<Avx512MicroKernel>.Multiply(left, right, c, m, n, k, accumulate, parallel); break;
            case GemmKernel.Avx2: BlockedGemm<Avx2MicroKernel>.Multiply(left, right, c, m, n, k, accumulate, parallel); break;
            default: BlockedGemm<ScalarMicroKernel>.Multiply(left, right, c, m, n, k, accumulate, parallel); break;
        }
    }
}
