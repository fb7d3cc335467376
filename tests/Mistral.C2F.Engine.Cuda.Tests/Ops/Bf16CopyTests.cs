using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Ops;

/// <summary>
/// The bf16 copies the tensor-core kernels read (<see cref="CudaPrecision.Bf16TensorCores"/>): an operand is rounded once
/// and read by every product after it; an upload or a kernel that writes the tensor makes the next product round it
/// again and see the new values; the multi-tensor AdamW writes the copy of a weight that products read in its own launch,
/// bit for bit what rounding the updated weight gives, and a guarded step that skips leaves the copy matching the
/// unchanged weight. Products are checked against the float64 product of operands that bf16 holds exactly (1e-5).
/// </summary>
public abstract class Bf16CopyTests(Func<IKernelDevice> device)
{
    private const string Rounding = "c2f_convert_f32_to_bf16", Widening = "c2f_convert_bf16_to_f32";
    private const double RoundedOperandTolerance = 1e-5;
    private const int M = 37, N = 48, K = 40;
    private readonly Random _random = new();

    [Fact]
    public void An_operand_is_rounded_once_and_again_after_each_write()
    {
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        using var pair = new BackendPair(backend);
        var a = pair.Input(Bf16Values(M * K), M, K);
        var w = pair.Input(Bf16Values(N * K), N, K);
        var c = pair.Output(M, N);
        int Roundings()
        {
            int before = log.Launches(Rounding);
            backend.MatMul(a.Tested, w.Tested, c.Tested, transposeB: true);
            pair.Reference.MatMul(a.Reference, w.Reference, c.Reference, transposeB: true);
            pair.AssertClose(c, RoundedOperandTolerance, "product of the current operands");
            return log.Launches(Rounding) - before;
        }

        Assert.Equal(2, Roundings());
        Assert.Equal(0, Roundings());

        var uploaded = Bf16Values(N * K);
        backend.Upload(uploaded, w.Tested);
        pair.Reference.Upload(uploaded, w.Reference);
        Assert.Equal(1, Roundings());

        // A kernel's output: w = x + 0, values bf16 holds exactly.
        var x = pair.Input(Bf16Values(N * K), N, K);
        var zero = pair.Input(new float[N * K], N, K);
        backend.Add(x.Tested, zero.Tested, w.Tested);
        pair.Reference.Add(x.Reference, zero.Reference, w.Reference);
        Assert.Equal(1, Roundings());
        Assert.Equal(0, Roundings());
    }

    [Fact]
    public void AdamW_writes_the_copy_that_products_read_and_a_skipped_step_keeps_it()
    {
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        using var a = backend.FromFloats(Bf16Values(M * K), M, K);
        using var weight = backend.FromFloats(Bf16Values(N * K), N, K);
        using var gradient = backend.FromFloats(Numerics.RandomFloats(_random, N * K), N, K);
        using var first = backend.FromFloats(new float[N * K], N, K);
        using var second = backend.FromFloats(new float[N * K], N, K);
        using var loss = backend.FromFloats([1f], 1);
        using var norm = backend.FromFloats([1f], 1);
        using var c = backend.Allocate(new Shape(M, N), DType.F32);
        backend.MatMul(a, weight, c, transposeB: true);
        var parameters = new[] { new AdamWParameter(weight, gradient, first, second, Decays: true) };
        var guard = new AdamWGuard(loss, norm, MaxGradientNorm: 0f);

        var before = backend.ToFloats(weight);
        backend.AdamW(parameters, new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, Step: 1), guard);
        Assert.False(before.SequenceEqual(backend.ToFloats(weight)), "the update changed nothing");
        AssertProductReadsCurrentCopy(backend, log, a, weight, c);

        backend.Fill(loss, double.NaN);
        var kept = backend.ToFloats(weight);
        backend.AdamW(parameters, new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, Step: 2), guard);
        Assert.True(kept.SequenceEqual(backend.ToFloats(weight)), "a NaN loss changed the weight");
        AssertProductReadsCurrentCopy(backend, log, a, weight, c);
    }

        /// <summary>
    /// A norm, a residual norm and SwiGLU whose output a tensor-core product reads next write it as bf16 alone: one
    /// launch, no rounding launch before the product, no float32 memory; a float32 read (here the host's) widens it once,
    /// to the bits of the float32 op's result rounded to bf16. The output's bf16 copy is poisoned with NaN first; rows
    /// are ragged (37 rows of 43, off the 16-byte vector boundary).
    /// </summary>
    [Theory]
    [InlineData("norm")]
    [InlineData("residual norm")]
    [InlineData("swiglu")]
    public void An_activation_a_product_reads_is_written_as_bf16_alone_and_widened_once_on_demand(string op)
    {
        const int rows = 37, width = 43;
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        using var float32 = new CudaBackend(log, ownsDevice: false);
        var (x, y, weight) = (Numerics.RandomFloats(_random, rows * width), Numerics.RandomFloats(_random, rows * width),
            Numerics.RandomFloats(_random, width));
        using var other = backend.FromFloats(Bf16Values(N * width), N, width);
        using var product = backend.Allocate(new Shape(rows, N), DType.F32);
        void Run(CudaBackend b, Tensor output)
        {
            using var xs = b.FromFloats(x, rows, width);
            using var ys = b.FromFloats(y, rows, width);
            using var w = b.FromFloats(weight, width);
            if (op == "norm") b.RmsNorm(xs, w, 1e-5f, output);
            else if (op == "swiglu") b.SwiGlu(xs, ys, output);
            else
            {
                using var sum = b.Allocate(new Shape(rows, width), DType.F32);
                b.AddRmsNorm(xs, ys, w, 1e-5f, sum, output);
            }
        }

        using var activation = backend.Allocate(new Shape(rows, width), DType.F32);
        Run(backend, activation);
        Assert.False(CudaStorage.Of(activation).HoldsFloat32, "a float32 buffer for an activation written as bf16");
        int roundings = log.Launches(Rounding);
        backend.MatMul(activation, other, product, transposeB: true);
        Assert.Equal(1, log.Launches(Rounding) - roundings);  // the other operand's, none of the activation's
        Assert.False(CudaStorage.Of(activation).HoldsFloat32, "the product read float32");

        using var poisoned = backend.Allocate(new Shape(rows, width), DType.F32);
        backend.Fill(poisoned, float.NaN);
        backend.MatMul(poisoned, other, product, transposeB: true);  // its bf16 copy now holds NaN
        Run(backend, poisoned);
        using var expected = float32.Allocate(new Shape(rows, width), DType.F32);
        Run(float32, expected);
        int widenings = log.Launches(Widening);
        Assert.Equal(Bf16TensorCoreTests.RoundedToBf16(float32.ToFloats(expected)), backend.ToFloats(poisoned));
        Assert.Equal(1, log.Launches(Widening) - widenings);
        backend.ToFloats(poisoned);
        Assert.Equal(1, log.Launches(Widening) - widenings);
    }

    /// <summary>
    /// A projection only flash attention reads (v) is written by the tensor-core GEMM as bf16 alone: the bits of the
    /// float32-output product rounded, no rounding launch before attention reads it, no float32 buffer. For a head dim
    /// flash attention does not take (32) the product stays float32.
    /// </summary>
    [Theory]
    [InlineData(64, true)]
    [InlineData(32, false)]
    public void A_projection_only_flash_attention_reads_is_written_as_bf16_alone(int headDim, bool flash)
    {
        const int rows = 37, width = 48;
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        var spec = new AttentionSpec(QueryHeads: 2, KvHeads: 1, headDim, SlidingWindow: null);
        using var input = backend.FromFloats(Bf16Values(rows * width), rows, width);
        using var weight = backend.FromFloats(Bf16Values(headDim * width), headDim, width);
        using var value = backend.Allocate(new Shape(rows, headDim), DType.F32);
        backend.Fill(value, float.NaN);
        using (var scratch = backend.Allocate(new Shape(rows, width), DType.F32)) backend.MatMul(value, weight, scratch);  // its copy now holds NaN
        backend.AttentionProjection(input, weight, value, spec, AttentionLayout.Sequences);
        Assert.Equal(flash, CudaStorage.Of(value).Bf16 is { Current: true });
        int roundings = log.Launches(Rounding);

        using var product = backend.Allocate(new Shape(rows, headDim), DType.F32);
        backend.MatMul(input, weight, product, transposeB: true);
        var expected = backend.ToFloats(product);
        Assert.Equal(flash ? Bf16TensorCoreTests.RoundedToBf16(expected) : expected, backend.ToFloats(value));
        Assert.Equal(roundings, log.Launches(Rounding));  // the operands' copies are current; nothing rounds v
        using var fresh = backend.Allocate(new Shape(rows, headDim), DType.F32);
        backend.AttentionProjection(input, weight, fresh, spec, AttentionLayout.Sequences);
        Assert.Equal(!flash, CudaStorage.Of(fresh).HoldsFloat32);
    }

    /// <summary>
    /// q or k rotated for flash attention is rotated in float32 and stored as bf16 alone, rounded once: the bits of RoPE
    /// on the float32 kernel rounded, written into a copy poisoned with NaN, at ragged 37 rows. For a head dim flash
    /// attention does not take (32) RoPE stays float32, in place.
    /// </summary>
    [Theory]
    [InlineData(64, true)]
    [InlineData(32, false)]
    public void RoPE_for_flash_attention_stores_its_result_as_bf16_alone(int headDim, bool flash)
    {
        const int rows = 37, heads = 2;
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        using var float32 = new CudaBackend(log, ownsDevice: false);
        var spec = new AttentionSpec(QueryHeads: heads, KvHeads: 1, headDim, SlidingWindow: null);
        var values = Numerics.RandomFloats(_random, rows * heads * headDim);
        int[] positions = Enumerable.Range(0, rows).Select(i => 5 * i + 2).ToArray();
        using var q = backend.FromFloats(new float[values.Length].Select(_ => float.NaN).ToArray(), rows, heads * headDim);
        using (var scratch = backend.Allocate(new Shape(rows, rows), DType.F32)) backend.MatMul(q, q, scratch, transposeB: true);  // a NaN copy
        backend.Upload(values, q);
        using var qPositions = backend.FromInts(positions, rows);
        backend.RopeForAttention(q, qPositions, headDim, 10000, spec, AttentionLayout.Sequences);
        Assert.Equal(flash ? 1 : 0, log.Launches("c2f_rope_f32_to_bf16"));
        Assert.Equal(flash ? 0 : 1, log.Launches("c2f_rope_f32"));
        Assert.Equal(flash, CudaStorage.Of(q).Bf16 is { Current: true });

        using var expected = float32.FromFloats(values, rows, heads * headDim);
        using var expectedPositions = float32.FromInts(positions, rows);
        float32.Rope(expected, expectedPositions, headDim, 10000);
        var rotated = float32.ToFloats(expected);
        Assert.Equal(flash ? Bf16TensorCoreTests.RoundedToBf16(rotated) : rotated, backend.ToFloats(q));
    }

    /// <summary>Products of decode's few rows stay float32 (<see cref="Bf16TensorCoreTests"/>), so the norm before them writes float32.</summary>
    [Fact]
    public void An_activation_of_too_few_rows_for_the_tensor_cores_stays_float32()
    {
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        using var output = Normalised(backend, Numerics.RandomFloats(_random, 4 * 40), 4, 40);
        Assert.Equal(1, log.Launches("c2f_rmsnorm_forward_f32"));
        Assert.Equal(0, log.Launches("c2f_rmsnorm_forward_f32_to_bf16"));
        Assert.True(CudaStorage.Of(output).HoldsFloat32);
    }

    /// <summary>
    /// A float32 write to part of a storage held as bf16 alone (a row slice filled) widens the rest first: the other
    /// rows keep their values, the slice has the new ones, and the next product rounds the whole tensor again.
    /// </summary>
    [Fact]
    public void A_float32_write_to_part_of_a_bf16_activation_keeps_the_rest()
    {
        const int rows = 40, width = 48;
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        var x = Numerics.RandomFloats(_random, rows * width);
        using var output = Normalised(backend, x, rows, width);
        using var unchanged = Normalised(backend, x, rows, width);
        Assert.False(CudaStorage.Of(output).HoldsFloat32);

        backend.Fill(output.SliceRows(5, 3), 2.5);
        var expected = backend.ToFloats(unchanged).Select((v, i) => i / width is >= 5 and < 8 ? 2.5f : v).ToArray();
        Assert.Equal(expected, backend.ToFloats(output));
        using var other = backend.FromFloats(Bf16Values(N * width), N, width);
        using var product = backend.Allocate(new Shape(rows, N), DType.F32);
        int roundings = log.Launches(Rounding);
        backend.MatMul(output, other, product, transposeB: true);
        Assert.Equal(2, log.Launches(Rounding) - roundings);
    }

    /// <summary>
    /// A product that writes the whole of a tensor held as bf16 alone (an activation reused next step) widens nothing
    /// first; one that accumulates into it widens it, and adds to the widened values.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_product_over_a_bf16_activation_widens_it_only_to_accumulate(bool accumulate)
    {
        const int rows = 40, width = 48;
        var log = new LaunchCountingDevice(device());
        using var backend = new CudaBackend(log, ownsDevice: false, CudaPrecision.Bf16TensorCores);
        var x = Numerics.RandomFloats(_random, rows * width);
        using var output = Normalised(backend, x, rows, width);
        using var twin = Normalised(backend, x, rows, width);
        var before = backend.ToFloats(twin);  // the activation's values, read without widening it
        using var a = backend.FromFloats(Bf16Values(rows * N), rows, N);
        using var b = backend.FromFloats(Bf16Values(width * N), width, N);
        using var product = backend.Allocate(new Shape(rows, width), DType.F32);
        backend.MatMul(a, b, product, transposeB: true);
        var expected = backend.ToFloats(product).Select((v, i) => accumulate ? (double)v + before[i] : v).ToArray();

        int widenings = log.Launches(Widening);
        backend.MatMul(a, b, output, transposeB: true, accumulate: accumulate);
        Assert.Equal(accumulate ? 1 : 0, log.Launches(Widening) - widenings);
        Numerics.AssertClose(backend.ToFloats(output), expected, 1e-6, "the product written over the activation");
    }

    /// <summary>RMSNorm of <paramref name="x"/> [rows, width] with a weight of ones, into a new tensor.</summary>
    private static Tensor Normalised(CudaBackend backend, float[] x, int rows, int width)
    {
        using var input = backend.FromFloats(x, rows, width);
        using var weight = backend.FromFloats(Enumerable.Repeat(1f, width).ToArray(), width);
        var output = backend.Allocate(new Shape(rows, width), DType.F32);
        backend.RmsNorm(input, weight, 1e-5f, output);
        return output;
    }

    /// <summary>The product rounds nothing and gives the bits of the same product of fresh tensors holding the same values.</summary>
    private static void AssertProductReadsCurrentCopy(CudaBackend backend, LaunchCountingDevice log, Tensor a, Tensor weight, Tensor c)
    {
        int roundings = log.Launches(Rounding);
        backend.MatMul(a, weight, c, transposeB: true);
        Assert.Equal(roundings, log.Launches(Rounding));
        using var freshA = backend.FromFloats(backend.ToFloats(a), M, K);
        using var freshWeight = backend.FromFloats(backend.ToFloats(weight), N, K);
        using var freshC = backend.Allocate(new Shape(M, N), DType.F32);
        backend.MatMul(freshA, freshWeight, freshC, transposeB: true);
        Assert.Equal(backend.ToFloats(freshC), backend.ToFloats(c));
    }

    private float[] Bf16Values(int count) => Bf16TensorCoreTests.RoundedToBf16(Numerics.RandomFloats(_random, count));
}

/// <summary>On the CPU emulator.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedBf16CopyTests(KernelDevices devices) : Bf16CopyTests(() => devices.Emulator);

/// <summary>On a GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaBf16CopyTests(KernelDevices devices) : Bf16CopyTests(() => devices.Cuda);
