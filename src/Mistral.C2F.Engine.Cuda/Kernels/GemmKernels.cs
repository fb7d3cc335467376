using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Matrix products on a kernel device: float32 on the CUDA cores (kernels/gemm_f32.cu) with the exact semantics
/// of <c>Backend.MatMul</c>, and bf16 on the tensor cores (kernels/gemm_bf16.cu) for the model's projections.
/// Matrices are row-major, contiguous, and passed by the device address of their first element; sizes are
/// those of the product, C[m, n] = op(A)[m, k] · op(B)[k, n].
/// </summary>
/// <param name="device">Where the kernels run.</param>
/// <param name="multiprocessors">
/// The device's streaming multiprocessors (132 on an H100 SXM): float32 products with at least one 128 × 128
/// tile per multiprocessor use those tiles, smaller ones 64 × 64 tiles so that more of the device works.
/// </param>
public sealed class GemmKernels(IKernelDevice device, int multiprocessors = 132)
{
    private const int SimtLargeTile = 128, SimtLargeThreads = 256;
    private const int SimtSmallTile = 64, SimtSmallThreads = 64;

    private const int TensorCoreTile = 128, TensorCoreThreads = 128;
    // 4 pipeline stages of a 128 × 32 bf16 tile of A and one of B: above the 48 KiB default, which launches raise.
    private const int TensorCoreSharedBytes = 4 * 2 * TensorCoreTile * 32 * sizeof(ushort);

    /// <summary>
    /// <c>Backend.MatMul</c> in float32: C = op(A)·op(B), or C += op(A)·op(B) when <paramref name="accumulate"/>,
    /// op transposing when asked. A is [m, k] ([k, m] when <paramref name="transposeA"/>), B is [k, n] ([n, k]
    /// when <paramref name="transposeB"/>), C is [m, n] and is read only when accumulating. Any sizes (k = 0
    /// gives C = 0, or leaves C as it is), any 4-byte aligned addresses (row views). Float32 accumulation in
    /// k order per thread.
    /// </summary>
    public void MatMul(ulong a, ulong b, ulong c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        RequireSizes(m, n, k);
        RequireAligned(a, sizeof(float), nameof(a)); RequireAligned(b, sizeof(float), nameof(b)); RequireAligned(c, sizeof(float), nameof(c));
        if (m == 0 || n == 0) return;

        var large = Tiles(m, SimtLargeTile) * Tiles(n, SimtLargeTile) >= multiprocessors;
        var (kernel, tile, threads) = large
            ? ("c2f_gemm_simt128_f32", SimtLargeTile, SimtLargeThreads)
            : ("c2f_gemm_simt64_f32", SimtSmallTile, SimtSmallThreads);
        device.Launch(kernel,
            new LaunchShape(new Dim3((uint)Tiles(n, tile), (uint)Tiles(m, tile)), new Dim3((uint)threads)),
            KernelArg.Pointer(a), KernelArg.Pointer(b), KernelArg.Pointer(c), m, n, k,
            transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0);
    }

    /// <summary>
    /// A bf16 product on the tensor cores with float32 accumulation: C = op(A)·op(B), or C += op(A)·op(B) when
    /// <paramref name="accumulate"/> (C is read only then). A and B are bf16; C is float32 or bf16 as
    /// <paramref name="output"/> says (a bf16 C is rounded once, after the sum). The three cases of a linear
    /// layer: NT (x·Wᵀ: A [m, k], B [n, k]), NN (dY·W: A [m, k], B [k, n]) and TN (dYᵀ·X: A [k, m], B [k, n]).
    /// Any sizes and 2-byte aligned addresses; full speed needs <see cref="IsTensorCoreFastPath"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">Both operands transposed (no layer needs it).</exception>
    public void MatMulBf16(ulong a, ulong b, ulong c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, DType output)
    {
        RequireSizes(m, n, k);
        if (transposeA && transposeB)
            throw new NotSupportedException("MatMulBf16: op(A)·op(B) with both transposed has no tensor-core kernel (float32 MatMul has it)");
        if (output is not (DType.F32 or DType.BF16))
            throw new ArgumentException($"MatMulBf16: the output is float32 or bf16, not {output}", nameof(output));
        RequireAligned(a, sizeof(ushort), nameof(a)); RequireAligned(b, sizeof(ushort), nameof(b));
        RequireAligned(c, output.SizeInBytes(), nameof(c));
        if (m == 0 || n == 0) return;

        var kernel = $"c2f_gemm_tc_{(transposeA ? 't' : 'n')}{(transposeB ? 't' : 'n')}_{(output == DType.F32 ? "f32" : "bf16")}";
        var blocks = (long)Tiles(m, TensorCoreTile) * Tiles(n, TensorCoreTile);
        device.Launch(kernel,
            new LaunchShape(new Dim3(checked((uint)blocks)), new Dim3(TensorCoreThreads), TensorCoreSharedBytes),
            KernelArg.Pointer(a), KernelArg.Pointer(b), KernelArg.Pointer(c), m, n, k, accumulate ? 1 : 0);
    }

    /// <summary>
    /// Whether <see cref="MatMulBf16"/> copies both operands with 16-byte cp.async: each operand 16-byte aligned
    /// and its row length (k for A unless transposed, else m; n for B unless transposed, else k) a multiple
    /// of 8. Otherwise the operand that fails is read element by element: correct, several times slower.
    /// </summary>
    public static bool IsTensorCoreFastPath(ulong a, ulong b, int m, int n, int k, bool transposeA, bool transposeB) =>
        a % 16 == 0 && (transposeA ? m : k) % 8 == 0 && b % 16 == 0 && (transposeB ? k : n) % 8 == 0;

    private static int Tiles(int size, int tile) => (size + tile - 1) / tile;

    private static void RequireSizes(int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
    }

    private static void RequireAligned(ulong address, int bytes, string name)
    {
        if (address % (ulong)bytes != 0)
            throw new ArgumentException($"the address 0x{address:X} is not {bytes}-byte aligned", name);
    }
}
