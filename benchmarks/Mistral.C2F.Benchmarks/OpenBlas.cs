using System.Runtime.InteropServices;

namespace Mistral.C2F.Benchmarks;

/// <summary>
/// The two OpenBLAS entry points the GEMM comparison needs, from Debian's libopenblas0-pthread
/// (benchmarks only; the engine never calls BLAS).
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";
    private const int RowMajor = 101, NoTranspose = 111, Transpose = 112;

    /// <summary>Fails with install instructions, instead of a DllNotFoundException at the first call, when the library is missing.</summary>
    public static void EnsureAvailable()
    {
        if (!NativeLibrary.TryLoad(Library, out var handle))
            throw new InvalidOperationException(
                $"OpenBLAS ({Library}) was not found; the GEMM comparison needs it. Install it with `apt-get install -y libopenblas0-pthread` (Debian/Ubuntu).");
        NativeLibrary.Free(handle);
    }

    /// <summary>C = op(A)·op(B), row-major and dense like the engine's GEMM.</summary>
    public static void Sgemm(float* a, float* b, float* c, int m, int n, int k, bool transposeA, bool transposeB) =>
        CblasSgemm(RowMajor, transposeA ? Transpose : NoTranspose, transposeB ? Transpose : NoTranspose, m, n, k,
            1f, a, transposeA ? m : k, b, transposeB ? k : n, 0f, c, n);

    public static void SetThreads(int threads) => OpenBlasSetNumThreads(threads);

    /// <summary>The kernel family OpenBLAS runs, e.g. "Haswell" or "SkylakeX"; OPENBLAS_CORETYPE overrides its detection.</summary>
    public static string CoreName => Marshal.PtrToStringAnsi(OpenBlasGetCoreName()) ?? "unknown";

    [LibraryImport(Library, EntryPoint = "cblas_sgemm")]
    private static partial void CblasSgemm(int order, int transposeA, int transposeB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Library, EntryPoint = "openblas_set_num_threads")]
    private static partial void OpenBlasSetNumThreads(int threads);

    [LibraryImport(Library, EntryPoint = "openblas_get_corename")]
    private static partial nint OpenBlasGetCoreName();
}
