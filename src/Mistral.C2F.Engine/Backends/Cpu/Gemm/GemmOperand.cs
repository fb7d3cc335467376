namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// An operand of C = op(A)·op(B) seen along the two axes packing walks: the "row" axis (rows of op(A),
/// or columns of op(B)) and the depth axis k. The transposes become strides, so one packing routine
/// serves all four transpose combinations; one of the two strides is always 1.
/// </summary>
internal readonly unsafe struct GemmOperand(float* data, nint rowStride, nint depthStride)
{
    public readonly float* Data = data;
    public readonly nint RowStride = rowStride;
    public readonly nint DepthStride = depthStride;

    /// <summary>op(A), m×k: A is m×k row-major, or k×m when transposed.</summary>
    public static GemmOperand Left(float* a, int m, int k, bool transpose) => transpose ? new(a, 1, m) : new(a, k, 1);

    /// <summary>op(B), k×n, walked by columns: B is k×n row-major, or n×k when transposed.</summary>
    public static GemmOperand Right(float* b, int n, int k, bool transpose) => transpose ? new(b, k, 1) : new(b, 1, n);

    public float* At(long row, long depth) => Data + row * RowStride + depth * DepthStride;
}
