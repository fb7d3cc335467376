using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// The tensor-core fragment layouts (kernels/fragment_layouts.cu) against a plain matrix product: D = A·B + C
/// with fragments built from the PTX ISA's layout formulas, and with operands loaded by ldmatrix the way
/// the GEMM and attention kernels load them; and the registers ldmatrix hands each lane. On a GPU these pin
/// the hardware; on the emulator, that the emulation matches them. Products of bf16 are exact in float32, so
/// the tolerance covers float32 accumulation only.
/// </summary>
public abstract class FragmentLayoutTests(Func<IKernelDevice> device)
{
    private const double AccumulationTolerance = 1e-6;
    private readonly Random _random = new();

    private IKernelDevice Device => device();

    [Fact]
    public void Mma_with_fragments_from_the_layout_formulas_is_the_matrix_product()
    {
        var problem = Problem.Random(_random);
        var d = problem.Run(Device, "c2f_fragment_mma_by_layout", b => [b.A, b.KMajorB, b.C, b.D]);
        AssertProduct(problem, d);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Mma_with_operands_from_ldmatrix_is_the_matrix_product(bool kMajorB)
    {
        var problem = Problem.Random(_random);
        var d = problem.Run(Device, "c2f_fragment_mma_by_ldmatrix",
            b => [b.A, kMajorB ? b.KMajorB : b.NMajorB, kMajorB ? 1 : 0, b.C, b.D]);
        AssertProduct(problem, d);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ldmatrix_gives_lane_l_row_l_over_4_and_columns_2_l_mod_4(bool transpose)
    {
        // Four 8×8 matrices of distinct bf16 values (small integers are exact), stored as a 32×8 block.
        var values = new float[32 * 8];
        for (int i = 0; i < values.Length; i++) values[i] = i - 100;
        var bits = new ushort[values.Length];
        BFloat16.FromSingle(values, bits);
        using var matrices = Device.Allocate(bits.Length * sizeof(ushort));
        using var registers = Device.Allocate(32 * 4 * sizeof(uint));
        Device.Upload<ushort>(bits, matrices.Address);
        Device.Fill32(registers.Address, 0xFFFFFFFF, 32 * 4);
        Device.Launch("c2f_fragment_ldmatrix_x4", new LaunchShape(new Dim3(1), new Dim3(32)),
            KernelArg.Pointer(matrices.Address), transpose ? 1 : 0, KernelArg.Pointer(registers.Address));
        var actual = new uint[32 * 4];
        Device.Download<uint>(registers.Address, actual);

        for (int lane = 0; lane < 32; lane++)
            for (int matrix = 0; matrix < 4; matrix++)
            {
                ushort Element(int half)
                {
                    int row = transpose ? 2 * (lane % 4) + half : lane / 4;
                    int column = transpose ? lane / 4 : 2 * (lane % 4) + half;
                    return bits[(8 * matrix + row) * 8 + column];
                }
                uint expected = Element(0) | (uint)Element(1) << 16;
                Assert.True(expected == actual[lane * 4 + matrix],
                    $"lane {lane}, matrix {matrix}{(transpose ? " (.trans)" : "")}: 0x{actual[lane * 4 + matrix]:X8}, expected 0x{expected:X8}");
            }
    }

    private static void AssertProduct(Problem problem, float[] d)
    {
        for (int row = 0; row < 16; row++)
            for (int column = 0; column < 8; column++)
            {
                double expected = problem.C[row * 8 + column];
                for (int k = 0; k < 16; k++) expected += (double)problem.A[row * 16 + k] * problem.B[k * 8 + column];
                Assert.True(Math.Abs(d[row * 8 + column] - expected) <= AccumulationTolerance * (1 + Math.Abs(expected)),
                    $"D[{row},{column}] = {d[row * 8 + column]}, expected {expected}");
            }
    }

    private sealed record Buffers(KernelArg A, KernelArg KMajorB, KernelArg NMajorB, KernelArg C, KernelArg D);

    /// <summary>A (16×16), B (16×8) as bf16-exact floats and C (16×8) float32, all random.</summary>
    private sealed record Problem(float[] A, float[] B, float[] C)
    {
        public static Problem Random(Random random) =>
            new(RoundedToBf16(Numerics.RandomFloats(random, 16 * 16)), RoundedToBf16(Numerics.RandomFloats(random, 16 * 8)),
                Numerics.RandomFloats(random, 16 * 8));

        /// <summary>Uploads the operands (B both k-major [k][n] and n-major [n][k]), launches one warp, returns D.</summary>
        public float[] Run(IKernelDevice device, string kernel, Func<Buffers, KernelArg[]> arguments)
        {
            var nMajorB = new float[B.Length];
            for (int k = 0; k < 16; k++)
                for (int n = 0; n < 8; n++) nMajorB[n * 16 + k] = B[k * 8 + n];
            using var a = Upload(device, Bf16(A));
            using var kMajor = Upload(device, Bf16(B));
            using var nMajor = Upload(device, Bf16(nMajorB));
            using var c = device.Allocate(C.Length * sizeof(float));
            using var d = device.Allocate(C.Length * sizeof(float));
            device.Upload<float>(C, c.Address);
            device.Fill32(d.Address, 0x7FC00000, C.Length);  // NaN: every element must be written
            device.Launch(kernel, new LaunchShape(new Dim3(1), new Dim3(32)), arguments(new Buffers(
                KernelArg.Pointer(a.Address), KernelArg.Pointer(kMajor.Address), KernelArg.Pointer(nMajor.Address),
                KernelArg.Pointer(c.Address), KernelArg.Pointer(d.Address))));
            var result = new float[C.Length];
            device.Download<float>(d.Address, result);
            return result;
        }

        private static DeviceBuffer Upload(IKernelDevice device, ushort[] bits)
        {
            var buffer = device.Allocate(bits.Length * sizeof(ushort));
            device.Upload<ushort>(bits, buffer.Address);
            return buffer;
        }

        private static ushort[] Bf16(float[] values)
        {
            var bits = new ushort[values.Length];
            BFloat16.FromSingle(values, bits);
            return bits;
        }

        private static float[] RoundedToBf16(float[] values)
        {
            var rounded = new float[values.Length];
            BFloat16.ToSingle(Bf16(values), rounded);
            return rounded;
        }
    }
}

/// <summary>The fragment layouts on the CPU emulator.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedFragmentLayoutTests(KernelDevices devices) : FragmentLayoutTests(() => devices.Emulator);

/// <summary>The fragment layouts on a GPU: what the emulator must match.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaFragmentLayoutTests(KernelDevices devices) : FragmentLayoutTests(() => devices.Cuda);
