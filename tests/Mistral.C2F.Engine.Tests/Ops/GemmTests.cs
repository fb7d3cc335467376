using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Cpu.Gemm;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>
/// The blocked GEMM against the float64 reference on fresh random inputs: every micro-kernel forced in
/// turn on this machine, 1 and 2 threads, all four transpose cases, overwrite and accumulate, and sizes
/// one off every tile and block edge. Operands sit between NaN guard zones, so a read past an edge
/// poisons the result and a write past an edge is caught.
/// </summary>
[Trait("Backend", "cpu")]
public sealed unsafe class GemmTests : IDisposable
{
    // Relative L2 error ‖C − C64‖/‖C64‖. Float32 sums of uniform [-1, 1) products, accumulated in depth
    // slices of at most 384, measured at most 6e-7 here for every size below, k = 8193 included, so one
    // bound serves all depths with a tenfold margin; a single wrong element of a tile fails by far more.
    private const double Tolerance = 1e-5;

    private static readonly GemmKernel[] Kernels = [GemmKernel.Avx512, GemmKernel.Avx2, GemmKernel.Scalar];
    private static readonly (bool A, bool B)[] Transposes = [(false, false), (false, true), (true, false), (true, true)];
    private static readonly int[] ThreadCounts = [1, 2];

    private readonly BackendPair _pair = new(new CpuBackend(2));
    private readonly Random _random = new();

    public void Dispose() => _pair.Dispose();

    /// <summary>Per kernel: one off its MR×NR tile, k one off the depth block KC, n past the task width NC, k = 1, m = 1, n = 1.</summary>
    public static TheoryData<string, int, int, int> EdgeSizes()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var kernel in Kernels.Select(k => k.ToString()))
        {
            var (mr, nr, kc, nc) = Blocking(Enum.Parse<GemmKernel>(kernel));
            data.Add(kernel, mr + 1, nr - 1, kc + 1);
            data.Add(kernel, mr - 1, nr + 1, kc - 1);
            data.Add(kernel, mr, nr, 1);
            data.Add(kernel, nr + 1, mr - 1, 2);
            data.Add(kernel, 2 * mr + 1, nc + nr + 1, 33);
            data.Add(kernel, 1, nr + 1, kc + 1);
            data.Add(kernel, mr + 1, 1, 17);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EdgeSizes))]
    public void Edge_sizes_match_reference(string kernelName, int m, int n, int k)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        Assert.SkipUnless(CpuGemm.IsSupported(kernel), $"{kernel} is not supported on this processor");
        foreach (var (transposeA, transposeB) in Transposes)
        foreach (bool accumulate in new[] { false, true })
            CheckAgainstReference(m, n, k, transposeA, transposeB, accumulate, [kernel]);
    }

    /// <summary>Above the threshold for threads: 2 threads split C into column tasks (n past NC) and share packed A.</summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Threaded_products_match_reference(bool transposeA, bool transposeB)
    {
        // Ragged for every kernel: 101 rows = 8·12+5 = 16·6+5 = 25·4+1, 419 columns, k past KC.
        CheckAgainstReference(101, 419, 389, transposeA, transposeB, accumulate: transposeA, Kernels);
    }

    /// <summary>Tall-skinny: n of one NR panel is too narrow to feed two threads by columns, so rows are split too.</summary>
    [Fact]
    public void Narrow_products_split_rows_across_threads()
    {
        CheckAgainstReference(700, 20, 400, transposeA: false, transposeB: true, accumulate: false, Kernels);
    }

    /// <summary>A long depth runs as 22 slices, each accumulating onto C.</summary>
    [Fact]
    public void Long_depth_accumulates_slices()
    {
        CheckAgainstReference(50, 40, 8193, transposeA: true, transposeB: false, accumulate: true, Kernels);
    }

    /// <summary>Tall A: its packed slice outgrows the budget, so the rows run as several blocks.</summary>
    [Fact]
    public void Tall_products_split_rows_into_blocks()
    {
        const int m = 2800, n = 7, k = 383;
        Assert.True(BlockedGemm<Avx512MicroKernel>.RowsPerBlock(m, k) < m);
        Assert.True(BlockedGemm<Avx2MicroKernel>.RowsPerBlock(m, k) < m);
        Assert.True(BlockedGemm<ScalarMicroKernel>.RowsPerBlock(m, k) < m);
        CheckAgainstReference(m, n, k, transposeA: false, transposeB: true, accumulate: false, Kernels);
    }

    /// <summary>A few rows of op(A), as in decoding, skip packing (up to 4, or 8 with B n×k); wide enough to be split over threads.</summary>
    [Theory]
    [InlineData(2, 1100, 131, false, true)]
    [InlineData(3, 1500, 129, true, false)]
    [InlineData(4, 1100, 257, true, true)]
    [InlineData(1, 2000, 200, false, false)]
    [InlineData(1, 1003, 77, false, true)]  // rows of B four at a time, then the three left over; k not a vector multiple
    [InlineData(8, 1001, 130, true, true)]  // the most rows that take dots (batched decoding), A stored k×m
    public void Few_row_products_match_reference(int m, int n, int k, bool transposeA, bool transposeB)
    {
        CheckAgainstReference(m, n, k, transposeA, transposeB, accumulate: false, [CpuGemm.BestKernel]);
        CheckAgainstReference(m, n, k, transposeA, transposeB, accumulate: true, [CpuGemm.BestKernel]);
    }

    /// <summary>
    /// A product is the same bits on any thread count, so a training run repeats whatever share of the cores its stage gets.
    /// The first case is a critic's value head over a PPO batch (m×1 C, taken as one row of dots over the rows of H): a
    /// split of its 11,522 columns that did not fall on a multiple of four sent a column from the four-at-a-time dots to the
    /// single dot, which sums in another order.
    /// </summary>
    [Theory]
    [InlineData(11522, 1, 128, false, true)]
    [InlineData(1, 11523, 128, false, true)]
    [InlineData(3, 9001, 101, true, true)]
    [InlineData(2, 20007, 33, false, false)]
    [InlineData(300, 517, 1030, true, false)]
    public void Products_are_the_same_bits_on_one_to_four_threads(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var aValues = Numerics.RandomFloats(_random, (long)m * k);
        var bValues = Numerics.RandomFloats(_random, (long)k * n);
        using var a = new Guarded(aValues);
        using var b = new Guarded(bValues);
        float[] Product(int threads)
        {
            using var c = new Guarded(new float[(long)m * n]);
            c.Values.Fill(float.NaN);
            CpuGemm.Multiply(a.Pointer, b.Pointer, c.Pointer, m, n, k, transposeA, transposeB, accumulate: false, new CpuParallel(threads));
            return c.Values.ToArray();
        }

        var oneThread = Product(1);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            var other = Product(threads);
            int first = Enumerable.Range(0, oneThread.Length).FirstOrDefault(i => BitConverter.SingleToInt32Bits(oneThread[i]) != BitConverter.SingleToInt32Bits(other[i]), -1);
            Assert.True(first < 0, $"{m}x{n}x{k}: element {first} on {threads} threads differs from one thread's");
        }
    }

    /// <summary>The backend's own entry point, with the kernel it picks for this processor.</summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Backend_matmul_matches_reference(bool transposeA, bool transposeB)
    {
        const int m = 77, n = 300, k = 450;
        var a = _pair.Input(Numerics.RandomFloats(_random, m * k), transposeA ? [k, m] : [m, k]);
        var b = _pair.Input(Numerics.RandomFloats(_random, k * n), transposeB ? [n, k] : [k, n]);
        var c = _pair.Output(m, n);
        _pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB);
        _pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB);
        _pair.AssertClose(c, Tolerance, $"backend matmul {m}x{n}x{k} tA={transposeA} tB={transposeB}");
    }

    [Fact]
    public void Zero_depth_writes_zeros_or_leaves_the_sum()
    {
        using var c = new Guarded([float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN]);
        CpuGemm.Multiply(null, null, c.Pointer, 2, 3, 0, false, false, accumulate: false, new CpuParallel(2));
        Assert.All(c.Values.ToArray(), value => Assert.Equal(0f, value));
        c.Values.Fill(3f);
        CpuGemm.Multiply(null, null, c.Pointer, 2, 3, 0, false, false, accumulate: true, new CpuParallel(2));
        Assert.All(c.Values.ToArray(), value => Assert.Equal(3f, value));
        c.AssertGuardsIntact("C");
    }

    /// <summary>
    /// One float64 reference product, then every listed kernel on 1 and 2 threads into a NaN-poisoned
    /// (or, to accumulate, freshly reset) C between guard zones.
    /// </summary>
    private void CheckAgainstReference(int m, int n, int k, bool transposeA, bool transposeB, bool accumulate,
        GemmKernel[] kernels)
    {
        var aValues = Numerics.RandomFloats(_random, (long)m * k);
        var bValues = Numerics.RandomFloats(_random, (long)k * n);
        var cValues = Numerics.RandomFloats(_random, (long)m * n);
        var a = _pair.Reference.FromFloats(aValues, transposeA ? [k, m] : [m, k]);
        var b = _pair.Reference.FromFloats(bValues, transposeB ? [n, k] : [k, n]);
        var c = _pair.Reference.FromFloats(cValues, m, n);
        _pair.Reference.MatMul(a, b, c, transposeA, transposeB, accumulate);
        var expected = _pair.Reference.ToDoubles(c);

        using var guardedA = new Guarded(aValues);
        using var guardedB = new Guarded(bValues);
        using var guardedC = new Guarded(cValues);
        foreach (var kernel in kernels.Where(CpuGemm.IsSupported))
        foreach (int threads in ThreadCounts)
        {
            string what = $"{kernel} {threads}T {m}x{n}x{k} tA={transposeA} tB={transposeB} accumulate={accumulate}";
            if (accumulate) cValues.CopyTo(guardedC.Values);
            else guardedC.Values.Fill(float.NaN);
            CpuGemm.Multiply(guardedA.Pointer, guardedB.Pointer, guardedC.Pointer, m, n, k, transposeA, transposeB, accumulate,
                new CpuParallel(threads), kernel);
            Numerics.AssertClose(guardedC.Values, expected, Tolerance, what);
            guardedA.AssertGuardsIntact($"A of {what}");
            guardedB.AssertGuardsIntact($"B of {what}");
            guardedC.AssertGuardsIntact($"C of {what}");
        }
    }

    private static (int MR, int NR, int KC, int NC) Blocking(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Avx512 => (Avx512MicroKernel.MR, Avx512MicroKernel.NR, BlockedGemm<Avx512MicroKernel>.KC, BlockedGemm<Avx512MicroKernel>.NC),
        GemmKernel.Avx2 => (Avx2MicroKernel.MR, Avx2MicroKernel.NR, BlockedGemm<Avx2MicroKernel>.KC, BlockedGemm<Avx2MicroKernel>.NC),
        _ => (ScalarMicroKernel.MR, ScalarMicroKernel.NR, BlockedGemm<ScalarMicroKernel>.KC, BlockedGemm<ScalarMicroKernel>.NC),
    };

    /// <summary>Values in native memory between two zones of NaN, a vector and more wide on either side.</summary>
    private sealed class Guarded : IDisposable
    {
        private const int Guard = 64;
        private readonly float* _block;
        private readonly int _length;

        public Guarded(ReadOnlySpan<float> values)
        {
            _length = values.Length;
            _block = (float*)NativeMemory.Alloc((nuint)(_length + 2 * Guard), sizeof(float));
            new Span<float>(_block, _length + 2 * Guard).Fill(float.NaN);
            values.CopyTo(Values);
        }

        public float* Pointer => _block + Guard;
        public Span<float> Values => new(Pointer, _length);

        public void AssertGuardsIntact(string what)
        {
            for (int i = 0; i < Guard; i++)
            {
                Assert.True(float.IsNaN(_block[i]), $"{what}: written {Guard - i} floats before its start");
                Assert.True(float.IsNaN(_block[Guard + _length + i]), $"{what}: written {i + 1} floats past its end");
            }
        }

        public void Dispose() => NativeMemory.Free(_block);
    }
}
