using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// RMSNorm forward, the fused residual forward and the backward against the float64 reference, at ragged rows and
/// widths, with views off a 16-byte boundary, and with more rows than the backward's weight-gradient blocks see once.
/// </summary>
public abstract class RmsNormKernelTests(Func<IKernelDevice> device)
{
    private const float Epsilon = 1e-5f;
    private readonly Random _random = new(777);

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(7, 67, 1)]
    [InlineData(33, 1025, 0)]
    [InlineData(7, 4099, 0)]
    [InlineData(33, 4096, 3)]
    public void Forward_f32_matches_reference(int rows, int width, int offset)
    {
        float[] x = Numerics.RandomFloats(_random, rows * width, 2), w = Numerics.RandomFloats(_random, width);
        using var buffers = new KernelBuffers(device());
        ulong y = buffers.Poisoned(rows * width, offset), inverseRms = buffers.Poisoned(rows);
        new RmsNormKernels(device()).Forward(buffers.Floats(x, offset), buffers.Floats(w, offset), y, inverseRms, rows, width, Epsilon);
        var (expectedY, expectedInverse) = Reference(x, w, rows, width);
        KernelAssert.Close(buffers.ReadFloats(y, rows * width), expectedY, KernelAssert.F32Tolerance, "y");
        KernelAssert.Close(buffers.ReadFloats(inverseRms, rows), expectedInverse, KernelAssert.F32Tolerance, "1/rms");
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(7, 67, 1)]
    [InlineData(33, 1025, 0)]
    [InlineData(7, 4096, 0)]
    public void Forward_bf16_matches_reference(int rows, int width, int offset)
    {
        float[] x = Bf16.Round(Numerics.RandomFloats(_random, rows * width, 2)), w = Bf16.Round(Numerics.RandomFloats(_random, width));
        using var buffers = new KernelBuffers(device());
        ulong y = buffers.Poisoned(rows * width, offset, bf16: true), inverseRms = buffers.Poisoned(rows);
        new RmsNormKernels(device()).Forward(buffers.Bf16Values(x, offset), buffers.Bf16Values(w, offset), y, inverseRms, rows, width, Epsilon,
            KernelStorage.Bf16);
        var (expectedY, expectedInverse) = Reference(x, w, rows, width);
        KernelAssert.Close(buffers.ReadBf16(y, rows * width), expectedY, KernelAssert.Bf16Tolerance, "y bf16");
        KernelAssert.Close(buffers.ReadFloats(inverseRms, rows), expectedInverse, KernelAssert.F32Tolerance, "1/rms of bf16 x");
    }

    [Theory]
    [InlineData(1, 67, 0, false, true)]
    [InlineData(7, 1025, 1, false, false)]
    [InlineData(33, 4099, 0, false, true)]
    [InlineData(7, 67, 1, true, false)]
    [InlineData(33, 4096, 0, true, true)]
    public void ResidualForward_stores_the_sum_then_normalises_it(int rows, int width, int offset, bool bf16, bool inPlace)
    {
        int n = rows * width;
        float[] x = Numerics.RandomFloats(_random, n), residual = Numerics.RandomFloats(_random, n), w = Numerics.RandomFloats(_random, width);
        if (bf16) (x, residual, w) = (Bf16.Round(x), Bf16.Round(residual), Bf16.Round(w));
        var storage = bf16 ? KernelStorage.Bf16 : KernelStorage.F32;
        using var buffers = new KernelBuffers(device());
        Func<float[], ulong> upload = v => bf16 ? buffers.Bf16Values(v, offset) : buffers.Floats(v, offset);
        ulong input = upload(x), stream = inPlace ? input : buffers.Poisoned(n, offset, bf16), y = buffers.Poisoned(n, offset, bf16);
        new RmsNormKernels(device()).ResidualForward(input, upload(residual), stream, upload(w), y, 0, rows, width, Epsilon, storage);

        var sum = new float[n];
        for (int i = 0; i < n; i++) sum[i] = x[i] + residual[i];
        if (bf16) sum = Bf16.Round(sum); // the stored stream, which the norm reads
        double tolerance = bf16 ? KernelAssert.Bf16Tolerance : KernelAssert.F32Tolerance;
        Func<ulong, float[]> read = address => bf16 ? buffers.ReadBf16(address, n) : buffers.ReadFloats(address, n);
        KernelAssert.Close(read(stream), Array.ConvertAll(sum, v => (double)v), tolerance, "x + residual");
        KernelAssert.Close(read(y), Reference(sum, w, rows, width).Y, tolerance, "rmsnorm(x + residual)");
        if (!inPlace) Assert.Equal(x, read(input));
    }

    [Theory]
    [InlineData(1, 1, 0, true)]
    [InlineData(7, 67, 1, true)]
    [InlineData(33, 1025, 0, true)]
    [InlineData(7, 4099, 0, false)]
    [InlineData(600, 67, 0, true)] // more rows than weight-gradient blocks: each block sums several rows
    public void Backward_f32_accumulates_reference_gradients(int rows, int width, int offset, bool weightGrad)
    {
        int n = rows * width;
        float[] x = Numerics.RandomFloats(_random, n, 2), w = Numerics.RandomFloats(_random, width), dy = Numerics.RandomFloats(_random, n);
        float[] dx = Numerics.RandomFloats(_random, n), dw = Numerics.RandomFloats(_random, width);
        using var reference = new ReferenceBackend();
        var (rx, rw) = (reference.FromFloats(x, rows, width), reference.FromFloats(w, width));
        var (ry, rInverse) = (reference.Allocate(rows, width), reference.Allocate(rows));
        reference.RmsNorm(rx, rw, Epsilon, ry, rInverse);
        var (rdx, rdw) = (reference.FromFloats(dx, rows, width), reference.FromFloats(dw, width));
        reference.RmsNormBackward(rx, rw, rInverse, reference.FromFloats(dy, rows, width), rdx, weightGrad ? rdw : null);

        using var buffers = new KernelBuffers(device());
        using var kernels = new RmsNormKernels(device());
        ulong inverseRms = buffers.Poisoned(rows), xs = buffers.Floats(x, offset), ws = buffers.Floats(w, offset);
        kernels.Forward(xs, ws, buffers.Poisoned(n, offset), inverseRms, rows, width, Epsilon);
        ulong dxs = buffers.Floats(dx, offset), dws = buffers.Floats(dw, offset);
        kernels.Backward(xs, ws, inverseRms, buffers.Floats(dy, offset), dxs, weightGrad ? dws : 0, rows, width);
        KernelAssert.Close(buffers.ReadFloats(dxs, n), reference.ToDoubles(rdx), KernelAssert.F32Tolerance, "dx");
        KernelAssert.Close(buffers.ReadFloats(dws, width), reference.ToDoubles(rdw), KernelAssert.F32Tolerance, weightGrad ? "dweight" : "frozen weight untouched");
    }

    [Theory]
    [InlineData(7, 67, 1)]
    [InlineData(33, 4096, 0)]
    public void Backward_bf16_accumulates_reference_gradients(int rows, int width, int offset)
    {
        int n = rows * width;
        float[] x = Bf16.Round(Numerics.RandomFloats(_random, n, 2)), w = Bf16.Round(Numerics.RandomFloats(_random, width));
        float[] dy = Bf16.Round(Numerics.RandomFloats(_random, n)), dx = Bf16.Round(Numerics.RandomFloats(_random, n));
        float[] dw = Numerics.RandomFloats(_random, width);
        using var reference = new ReferenceBackend();
        var (rx, rw) = (reference.FromFloats(x, rows, width), reference.FromFloats(w, width));
        var rInverse = reference.Allocate(rows);
        reference.RmsNorm(rx, rw, Epsilon, reference.Allocate(rows, width), rInverse);
        var (rdx, rdw) = (reference.FromFloats(dx, rows, width), reference.FromFloats(dw, width));
        reference.RmsNormBackward(rx, rw, rInverse, reference.FromFloats(dy, rows, width), rdx, rdw);

        using var buffers = new KernelBuffers(device());
        using var kernels = new RmsNormKernels(device());
        ulong inverseRms = buffers.Poisoned(rows), xs = buffers.Bf16Values(x, offset), ws = buffers.Bf16Values(w, offset);
        kernels.Forward(xs, ws, buffers.Poisoned(n, offset, bf16: true), inverseRms, rows, width, Epsilon, KernelStorage.Bf16);
        ulong dxs = buffers.Bf16Values(dx, offset), dws = buffers.Floats(dw);
        kernels.Backward(xs, ws, inverseRms, buffers.Bf16Values(dy, offset), dxs, dws, rows, width, KernelStorage.Bf16);
        KernelAssert.Close(buffers.ReadBf16(dxs, n), reference.ToDoubles(rdx), KernelAssert.Bf16Tolerance, "dx bf16");
        KernelAssert.Close(buffers.ReadFloats(dws, width), reference.ToDoubles(rdw), KernelAssert.F32Tolerance, "dweight (float32) from bf16");
    }

    private static (double[] Y, double[] InverseRms) Reference(float[] x, float[] w, int rows, int width)
    {
        using var reference = new ReferenceBackend();
        var (y, inverse) = (reference.Allocate(rows, width), reference.Allocate(rows));
        reference.RmsNorm(reference.FromFloats(x, rows, width), reference.FromFloats(w, width), Epsilon, y, inverse);
        return (reference.ToDoubles(y), reference.ToDoubles(inverse));
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedRmsNormKernelTests(KernelDevices devices) : RmsNormKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaRmsNormKernelTests(KernelDevices devices) : RmsNormKernelTests(() => devices.Cuda);
