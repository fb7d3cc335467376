namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>The micro-kernels <see cref="CpuGemm"/> can run; the best one the hardware supports is chosen once.</summary>
internal enum GemmKernel
{
    Scalar,
    Avx2,
    Avx512,
}

/// <summary>
/// A register-tiled micro-kernel: one MR×NR tile of C from an MR-row panel of packed A and an NR-column
/// panel of packed B (layouts in <see cref="GemmPacking"/>). Implemented by structs so that the
/// driver, generic over the kernel, is compiled once per kernel with MR and NR as constants.
/// Kernels, packing and the task loop are marked AggressiveOptimization: at tier 0 they run about ten
/// times slower, and the products of a run's first second would pay for it.
/// </summary>
internal unsafe interface IGemmMicroKernel
{
    static abstract int MR { get; }
    static abstract int NR { get; }
    /// <summary>Floats per vector of the kernel's instruction set (16, 8, or 1 for scalar); packing uses the same.</summary>
    static abstract int Lanes { get; }

    /// <summary>
    /// C[i, j] (+)= Σ_p a[p·MR + i] · b[p·NR + j] for the full tile, C row-major with row stride
    /// <paramref name="ldc"/>; without <paramref name="accumulate"/> C is overwritten and never read.
    /// <paramref name="b"/> is 64-byte aligned.
    /// </summary>
    static abstract void Multiply(int depth, float* a, float* b, float* c, nint ldc, bool accumulate);
}
