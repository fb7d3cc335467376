using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// RoPE against the float64 reference, forward and inverse, at positions up to 32k (where a float32 angle would
/// be off by ~1e-3), head dims whose half is or is not whole 16-byte vectors, and views off a 16-byte boundary.
/// </summary>
public abstract class RopeKernelTests(Func<IKernelDevice> device)
{
    private readonly Random _random = new(99);

    [Theory]
    [InlineData(1, 1, 2, 10000.0, false, 0, 5)]
    [InlineData(7, 3, 6, 10000.0, true, 0, 1000)]
    [InlineData(33, 4, 64, 1e6, false, 1, 32767)]
    [InlineData(7, 3, 128, 1e6, true, 0, 32767)]
    [InlineData(5, 2, 128, 500000.0, false, 0, 20000)]
    public void Rotate_f32_matches_reference(int tokens, int heads, int headDim, double theta, bool inverse, int offset, int maxPosition)
    {
        int rowLength = heads * headDim, n = tokens * rowLength;
        float[] x = Numerics.RandomFloats(_random, n);
        int[] positions = Positions(tokens, maxPosition);
        using var buffers = new KernelBuffers(device());
        ulong xs = buffers.Floats(x, offset);
        new RopeKernels(device()).Rotate(xs, buffers.Ints(positions), tokens, rowLength, headDim, theta, inverse);
        KernelAssert.Close(buffers.ReadFloats(xs, n), Reference(x, positions, tokens, rowLength, headDim, theta, inverse),
            KernelAssert.F32Tolerance, "rope f32");
    }

    [Theory]
    [InlineData(7, 3, 6, 10000.0, true, 1, 1000)]
    [InlineData(33, 4, 64, 1e6, false, 0, 32767)]
    [InlineData(5, 2, 128, 1e6, true, 0, 32767)]
    public void Rotate_bf16_matches_reference(int tokens, int heads, int headDim, double theta, bool inverse, int offset, int maxPosition)
    {
        int rowLength = heads * headDim, n = tokens * rowLength;
        float[] x = Bf16.Round(Numerics.RandomFloats(_random, n));
        int[] positions = Positions(tokens, maxPosition);
        using var buffers = new KernelBuffers(device());
        ulong xs = buffers.Bf16Values(x, offset);
        new RopeKernels(device()).Rotate(xs, buffers.Ints(positions), tokens, rowLength, headDim, theta, inverse, KernelStorage.Bf16);
        KernelAssert.Close(buffers.ReadBf16(xs, n), Reference(x, positions, tokens, rowLength, headDim, theta, inverse),
            KernelAssert.Bf16Tolerance, "rope bf16");
    }

    /// <summary>Distinct positions spread down from <paramref name="maxPosition"/>, in no particular order.</summary>
    private int[] Positions(int tokens, int maxPosition) =>
        Enumerable.Range(0, tokens).Select(t => t == 0 ? maxPosition : _random.Next(maxPosition + 1)).ToArray();

    private static double[] Reference(float[] x, int[] positions, int tokens, int rowLength, int headDim, double theta, bool inverse)
    {
        using var reference = new ReferenceBackend();
        var rx = reference.FromFloats(x, tokens, rowLength);
        reference.Rope(rx, reference.FromInts(positions, tokens), headDim, theta, inverse);
        return reference.ToDoubles(rx);
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedRopeKernelTests(KernelDevices devices) : RopeKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaRopeKernelTests(KernelDevices devices) : RopeKernelTests(() => devices.Cuda);
