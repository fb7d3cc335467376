using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Ops.Contract;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Ops;

/// <summary>
/// The CUDA backend with its products on bf16 tensor cores (<see cref="MatMulPrecision.Bf16TensorCores"/>): the
/// f32 → bf16 conversion rounds as the host does, each product equals the float64 product of the bf16-rounded
/// operands to float32 accuracy (1e-5; measured about 1e-7), the TT case stays float32, and a training step stays
/// within bf16 accuracy of the float32 CPU backend.
/// </summary>
public abstract class Bf16MatMulTests(Func<IKernelDevice> device)
{
    private const double RoundedOperandTolerance = 1e-5;
    private readonly Random _random = new();

    private CudaBackend Backend() => new(device(), ownsDevice: false, MatMulPrecision.Bf16TensorCores);

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(65_537)]
    public void Conversion_rounds_to_nearest_even_like_the_host(int count)
    {
        var values = Numerics.RandomFloats(_random, count, 100f);
        // Exact ties between two bf16 values go to the even one.
        for (int i = 0; i < Math.Min(count, 4); i++) values[i] = BitConverter.Int32BitsToSingle(0x3F808000 + (i << 16));
        var expected = new ushort[count];
        BFloat16.FromSingle(values, expected);
        var kernels = new ConversionKernels(device());
        using var source = device().Allocate(count * sizeof(float));
        using var destination = device().Allocate(count * sizeof(ushort) + 4);
        device().Upload<float>(values, source.Address);
        device().Fill32(destination.Address, 0xFFFFFFFF, (count * sizeof(ushort) + 4) / 4);
        kernels.ToBf16(source.Address, destination.Address, count);
        var actual = new ushort[count];
        device().Download<ushort>(destination.Address, actual);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(16, 8, 16, false, true, false)]
    [InlineData(37, 50, 72, false, true, true)]    // NT: the forward projections
    [InlineData(37, 50, 72, false, false, false)]  // NN: input gradients
    [InlineData(72, 40, 37, true, false, true)]    // TN: weight gradients, accumulated
    [InlineData(5, 33, 17, false, true, false)]    // k off the 8-element vectors: the kernel's element path
    public void Products_equal_the_float64_product_of_bf16_rounded_operands(int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        using var backend = Backend();
        using var pair = new BackendPair(backend);
        var aValues = RoundedToBf16(Numerics.RandomFloats(_random, m * k));
        var bValues = RoundedToBf16(Numerics.RandomFloats(_random, k * n));
        var a = pair.Input(aValues, transposeA ? [k, m] : [m, k]);
        var b = pair.Input(bValues, transposeB ? [n, k] : [k, n]);
        var c = accumulate ? pair.Input(Numerics.RandomFloats(_random, m * n), m, n) : pair.Output(m, n);
        backend.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB, accumulate);
        pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB, accumulate);
        pair.AssertClose(c, RoundedOperandTolerance, $"bf16 tensor-core product {m}×{n}×{k} tA={transposeA} tB={transposeB} acc={accumulate}");
    }

    [Fact]
    public void The_TT_case_stays_float32()
    {
        using var backend = Backend();
        using var pair = new BackendPair(backend);
        const int m = 9, n = 11, k = 13;
        var a = pair.Input(Numerics.RandomFloats(_random, m * k), k, m);
        var b = pair.Input(Numerics.RandomFloats(_random, k * n), n, k);
        var c = pair.Output(m, n);
        backend.MatMul(a.Tested, b.Tested, c.Tested, transposeA: true, transposeB: true);
        pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA: true, transposeB: true);
        pair.AssertClose(c, 1e-5, "TT product in float32");
    }

    private static float[] RoundedToBf16(float[] values)
    {
        var bits = new ushort[values.Length];
        BFloat16.FromSingle(values, bits);
        var rounded = new float[values.Length];
        BFloat16.ToSingle(bits, rounded);
        return rounded;
    }
}

/// <summary>On the CPU emulator.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedBf16MatMulTests(KernelDevices devices) : Bf16MatMulTests(() => devices.Emulator);

/// <summary>On a GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaBf16MatMulTests(KernelDevices devices) : Bf16MatMulTests(() => devices.Cuda);

/// <summary>
/// A training step with bf16 tensor-core products against the float32 CPU backend, at bf16 tolerances (bf16 operands
/// carry a 2⁻⁹ relative rounding): the loss within 1e-3 (measured 6e-5 to 9e-5), gradients within 3e-2 (about 1.6e-2
/// for the embedding's), the parameters after one AdamW step within 2e-3 (about 2e-4).
/// </summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedBf16TrainingStepTests(KernelDevices devices)
    : DeviceTrainingStepChecks(() => new CudaBackend(devices.Emulator, ownsDevice: false, MatMulPrecision.Bf16TensorCores))
{
    protected override (double Loss, double Gradient, double Parameter) Tolerances => (1e-3, 3e-2, 2e-3);
}
