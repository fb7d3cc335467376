using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>Single-precision GEMM, C (+)= op(A)·op(B), all matrices row-major and dense.</summary>
internal static unsafe class CpuGemm
{
    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, CpuParallel parallel)
    {
        // Bring both operands to the dot-product form C[i,j] = A[i,:]·B[j,:].
        float[]? aRows = transposeA ? Transpose(a, k, m) : null;
        float[]? bRows = transposeB ? null : Transpose(b, k, n);
        fixed (float* at = aRows, bt = bRows)
        {
            float* aa = transposeA ? at : a, bb = transposeB ? b : bt;
            parallel.ForRanges(m, (start, end) =>
            {
                for (long i = start; i < end; i++)
                {
                    var row = new ReadOnlySpan<float>(aa + i * k, k);
                    for (int j = 0; j < n; j++)
                    {
                        float dot = TensorPrimitives.Dot(row, new ReadOnlySpan<float>(bb + (long)j * k, k));
                        c[i * n + j] = accumulate ? c[i * n + j] + dot : dot;
                    }
                }
            });
        }
    }

    private static float[] Transpose(float* source, int rows, int columns)
    {
        var result = new float[(long)rows * columns];
        for (int r = 0; r < rows; r++)
        for (int col = 0; col < columns; col++)
            result[(long)col * rows + r] = source[(long)r * columns + col];
        return result;
    }
}
