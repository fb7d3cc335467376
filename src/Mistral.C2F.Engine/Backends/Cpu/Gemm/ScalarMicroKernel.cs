using System.Runtime.CompilerServices;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>Portable micro-kernel for machines without AVX2+FMA: a 4×4 tile summed in plain floats.</summary>
internal readonly unsafe struct ScalarMicroKernel : IGemmMicroKernel
{
    public static int MR => 4;
    public static int NR => 4;
    public static int Lanes => 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int depth, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        float* tile = stackalloc float[4 * 4];
        new Span<float>(tile, 4 * 4).Clear();
        for (; depth > 0; depth--, a += MR, b += NR)
            for (int i = 0; i < 4; i++)
            {
                float ai = a[i];
                for (int j = 0; j < 4; j++) tile[i * 4 + j] += ai * b[j];
            }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * 4 + j] : tile[i * 4 + j];
    }
}
