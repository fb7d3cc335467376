using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// The GEMM kernels against the float64 reference (<see cref="ReferenceBackend"/>.MatMul) on fresh random inputs,
/// outputs poisoned with NaN or, when accumulating, holding random values, at sizes that are multiples of no
/// tile. Errors are relative to the product of magnitudes, |A||B| + |C| (<see cref="Numerics.AssertCloseToScale"/>):
/// an accumulated 1×1×1 result c + ab can cancel to near zero, and relative to itself its last-bit rounding
/// then exceeds any fixed bound. Tolerances: float32 accumulation gives about 1e-7 relative at these k, so float32
/// outputs must be within 1e-5; a bf16 output is rounded once (relative step 2⁻⁸), so bf16 outputs within 1e-2.
/// </summary>
public abstract class GemmKernelTests(Func<IKernelDevice> device)
{
    private const double Float32Tolerance = 1e-5, Bf16OutputTolerance = 1e-2;
    private const uint NaNPoison = 0x7FC00000, Bf16PairPoison = 0x7FC07FC0;
    private readonly Random _random = new();

    private IKernelDevice Device => device();

    public static TheoryData<int, int, int> Float32Sizes => new()
    {
        { 1, 1, 1 }, { 7, 13, 5 }, { 33, 17, 65 }, { 65, 70, 31 }, { 100, 37, 80 }, { 130, 129, 257 }, { 50, 60, 1000 },
    };

    // (16, 8, 16) is one mma; (136, 200, 40) is ragged to the tiles with every row length a multiple of 8, so
    // every case runs the cp.async path; (37, 50, 72) and (130, 200, 264) send some operands down the element path;
    // (20, 24, 1000) is a long sum.
    public static TheoryData<int, int, int> TensorCoreSizes => new()
    {
        { 16, 8, 16 }, { 37, 50, 72 }, { 136, 200, 40 }, { 130, 200, 264 }, { 20, 24, 1000 },
    };

    [Theory]
    [MemberData(nameof(Float32Sizes))]
    public void Float32_MatMul_matches_the_reference_in_every_transpose_case_with_both_tile_sizes(int m, int n, int k)
    {
        // One multiprocessor makes any product big enough for 128 × 128 tiles; int.MaxValue keeps 64 × 64.
        foreach (var multiprocessors in new[] { 1, int.MaxValue })
        {
            var gemm = new GemmKernels(Device, multiprocessors);
            foreach (var (transposeA, transposeB) in AllTransposes)
            foreach (var accumulate in new[] { false, true })
                CheckFloat32(gemm, m, n, k, transposeA, transposeB, accumulate,
                    $"MatMul {Case(transposeA, transposeB)} {m}×{n}×{k} accumulate={accumulate} tile={(multiprocessors == 1 ? 128 : 64)}");
        }
    }

    [Fact]
    public void Float32_MatMul_over_an_empty_k_writes_zeros_or_leaves_the_accumulator()
    {
        var gemm = new GemmKernels(Device);
        var start = Numerics.RandomFloats(_random, 6);
        using var a = Device.Allocate(sizeof(float));
        using var c = Device.Allocate(start.Length * sizeof(float));
        foreach (var accumulate in new[] { false, true })
        {
            Device.Upload<float>(start, c.Address);
            gemm.MatMul(a.Address, a.Address, c.Address, 2, 3, 0, transposeA: false, transposeB: false, accumulate);
            var result = new float[start.Length];
            Device.Download(c.Address, result.AsSpan());
            Assert.Equal(accumulate ? start : new float[start.Length], result);
        }
    }

    [Theory]
    [MemberData(nameof(TensorCoreSizes))]
    public void Bf16_tensor_core_products_match_the_reference_on_the_rounded_inputs(int m, int n, int k)
    {
        var gemm = new GemmKernels(Device);
        foreach (var (transposeA, transposeB) in TensorCoreTransposes)
        foreach (var output in new[] { DType.F32, DType.BF16 })
        foreach (var accumulate in new[] { false, true })
            CheckBf16(gemm, m, n, k, transposeA, transposeB, accumulate, output, elementOffset: 0);
    }

    [Theory]
    [InlineData(37, 50, 72)]
    [InlineData(136, 200, 40)]
    public void Bf16_operands_off_16_byte_alignment_take_the_element_path_and_agree(int m, int n, int k)
    {
        var gemm = new GemmKernels(Device);
        foreach (var (transposeA, transposeB) in TensorCoreTransposes)
            CheckBf16(gemm, m, n, k, transposeA, transposeB, accumulate: true, DType.F32, elementOffset: 1);
    }

    [Fact]
    public void Bf16_products_refuse_both_operands_transposed_and_outputs_other_than_float32_or_bf16()
    {
        var gemm = new GemmKernels(Device);
        using var buffer = Device.Allocate(1024);
        var x = buffer.Address;
        Assert.Throws<NotSupportedException>(() => gemm.MatMulBf16(x, x, x, 8, 8, 8, true, true, false, DType.F32));
        Assert.Throws<ArgumentException>(() => gemm.MatMulBf16(x, x, x, 8, 8, 8, false, true, false, DType.F64));
    }

    private static readonly (bool A, bool B)[] AllTransposes = [(false, false), (false, true), (true, false), (true, true)];
    private static readonly (bool A, bool B)[] TensorCoreTransposes = [(false, true), (false, false), (true, false)];

    private static string Case(bool transposeA, bool transposeB) => $"{(transposeA ? 'T' : 'N')}{(transposeB ? 'T' : 'N')}";

    private void CheckFloat32(GemmKernels gemm, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, string what)
    {
        var a = Numerics.RandomFloats(_random, (long)m * k);
        var b = Numerics.RandomFloats(_random, (long)k * n);
        var start = Numerics.RandomFloats(_random, (long)m * n);
        var expected = ReferenceProduct(a, b, start, m, n, k, transposeA, transposeB, accumulate);
        var scale = ReferenceProduct(Magnitudes(a), Magnitudes(b), Magnitudes(start), m, n, k, transposeA, transposeB, accumulate);

        // Each matrix one float into its buffer: 4-byte aligned only, as a row view can be.
        using var bufferA = Device.Allocate((a.Length + 1) * sizeof(float));
        using var bufferB = Device.Allocate((b.Length + 1) * sizeof(float));
        using var bufferC = Device.Allocate((start.Length + 1) * sizeof(float));
        ulong deviceA = bufferA.At(sizeof(float)), deviceB = bufferB.At(sizeof(float)), deviceC = bufferC.At(sizeof(float));
        Device.Upload<float>(a, deviceA);
        Device.Upload<float>(b, deviceB);
        if (accumulate) Device.Upload<float>(start, deviceC);
        else Device.Fill32(deviceC, NaNPoison, start.Length);

        gemm.MatMul(deviceA, deviceB, deviceC, m, n, k, transposeA, transposeB, accumulate);
        var actual = new float[start.Length];
        Device.Download(deviceC, actual.AsSpan());
        Report(what, actual, expected, scale);
        Numerics.AssertCloseToScale(actual, expected, scale, Float32Tolerance, what);
    }

    private void CheckBf16(GemmKernels gemm, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, DType output, int elementOffset)
    {
        var (a, aBits) = RandomBf16((long)m * k);
        var (b, bBits) = RandomBf16((long)k * n);
        var (start, startBits) = output == DType.BF16 ? RandomBf16((long)m * n) : (Numerics.RandomFloats(_random, (long)m * n), []);
        var expected = ReferenceProduct(a, b, start, m, n, k, transposeA, transposeB, accumulate);
        var scale = ReferenceProduct(Magnitudes(a), Magnitudes(b), Magnitudes(start), m, n, k, transposeA, transposeB, accumulate);

        var offset = elementOffset * sizeof(ushort);
        using var bufferA = Device.Allocate(offset + aBits.Length * sizeof(ushort));
        using var bufferB = Device.Allocate(offset + bBits.Length * sizeof(ushort));
        using var bufferC = Device.Allocate((start.Length + 1) * output.SizeInBytes());
        ulong deviceA = bufferA.At(offset), deviceB = bufferB.At(offset);
        Device.Upload<ushort>(aBits, deviceA);
        Device.Upload<ushort>(bBits, deviceB);
        if (accumulate && output == DType.BF16) Device.Upload<ushort>(startBits, bufferC.Address);
        else if (accumulate) Device.Upload<float>(start, bufferC.Address);
        else if (output == DType.BF16) Device.Fill32(bufferC.Address, Bf16PairPoison, (start.Length + 1) / 2);
        else Device.Fill32(bufferC.Address, NaNPoison, start.Length);
        Assert.Equal(elementOffset == 0 && (transposeA ? m : k) % 8 == 0 && (transposeB ? k : n) % 8 == 0,
            GemmKernels.IsTensorCoreFastPath(deviceA, deviceB, m, n, k, transposeA, transposeB));

        gemm.MatMulBf16(deviceA, deviceB, bufferC.Address, m, n, k, transposeA, transposeB, accumulate, output);
        var actual = new float[start.Length];
        if (output == DType.BF16)
        {
            var bits = new ushort[start.Length];
            Device.Download(bufferC.Address, bits.AsSpan());
            BFloat16.ToSingle(bits, actual);
        }
        else Device.Download(bufferC.Address, actual.AsSpan());

        var what = $"MatMulBf16 {Case(transposeA, transposeB)} {m}×{n}×{k} → {output} accumulate={accumulate} offset={elementOffset}";
        Report(what, actual, expected, scale);
        Numerics.AssertCloseToScale(actual, expected, scale, output == DType.BF16 ? Bf16OutputTolerance : Float32Tolerance, what);
    }

    /// <summary>Random values rounded to bf16: the widened floats the reference multiplies, and their bits.</summary>
    private (float[] Values, ushort[] Bits) RandomBf16(long count)
    {
        var bits = new ushort[count];
        BFloat16.FromSingle(Numerics.RandomFloats(_random, count), bits);
        var values = new float[count];
        BFloat16.ToSingle(bits, values);
        return (values, bits);
    }

    private static double[] ReferenceProduct(float[] a, float[] b, float[] start, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        using var reference = new ReferenceBackend();
        using var ra = reference.FromFloats(a, transposeA ? [k, m] : [m, k]);
        using var rb = reference.FromFloats(b, transposeB ? [n, k] : [k, n]);
        using var rc = reference.FromFloats(start, m, n);
        reference.MatMul(ra, rb, rc, transposeA, transposeB, accumulate);
        return reference.ToDoubles(rc);
    }

    private static float[] Magnitudes(float[] values) => Array.ConvertAll(values, MathF.Abs);

    private static void Report(string what, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, ReadOnlySpan<double> scale) =>
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{what}: relative {Numerics.RelativeError(actual, expected, scale):E2}, max abs {Numerics.MaxAbsError(actual, expected):E2}");
}

/// <summary>The GEMM checks on the CPU emulator of the kernels.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedGemmKernelTests(KernelDevices devices) : GemmKernelTests(() => devices.Emulator);

/// <summary>The GEMM checks on a CUDA GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaGemmKernelTests(KernelDevices devices) : GemmKernelTests(() => devices.Cuda);
