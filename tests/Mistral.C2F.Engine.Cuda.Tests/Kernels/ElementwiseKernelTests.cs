using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// SwiGLU, its backward and Add against the float64 reference, at counts that are not multiples of a vector or
/// a block, and at element offsets that put the views off a 16-byte boundary (the scalar head/tail paths).
/// </summary>
public abstract class ElementwiseKernelTests(Func<IKernelDevice> device)
{
    private readonly Random _random = new(1234);

    [Theory]
    [InlineData(1, 0)]
    [InlineData(67, 1)]
    [InlineData(1025, 0)]
    [InlineData(4099, 3)]
    public void SwiGlu_f32_matches_reference(int count, int offset)
    {
        var (gate, up) = (Numerics.RandomFloats(_random, count, 4), Numerics.RandomFloats(_random, count));
        using var buffers = new KernelBuffers(device());
        ulong output = buffers.Poisoned(count, offset);
        new ElementwiseKernels(device()).SwiGlu(buffers.Floats(gate, offset), buffers.Floats(up, offset), output, count);
        KernelAssert.Close(buffers.ReadFloats(output, count), ReferenceSwiGlu(gate, up), KernelAssert.F32Tolerance, "swiglu f32");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(67, 1)]
    [InlineData(4099, 0)]
    [InlineData(4099, 5)]
    public void SwiGlu_bf16_matches_reference(int count, int offset)
    {
        var (gate, up) = (Bf16.Round(Numerics.RandomFloats(_random, count, 4)), Bf16.Round(Numerics.RandomFloats(_random, count)));
        using var buffers = new KernelBuffers(device());
        ulong output = buffers.Poisoned(count, offset, bf16: true);
        new ElementwiseKernels(device()).SwiGlu(buffers.Bf16Values(gate, offset), buffers.Bf16Values(up, offset), output, count, KernelStorage.Bf16);
        KernelAssert.Close(buffers.ReadBf16(output, count), ReferenceSwiGlu(gate, up), KernelAssert.Bf16Tolerance, "swiglu bf16");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(67, 2)]
    [InlineData(1025, 0)]
    [InlineData(4099, 1)]
    public void SwiGluBackward_accumulates_reference_gradients(int count, int offset)
    {
        float[] gate = Numerics.RandomFloats(_random, count, 4), up = Numerics.RandomFloats(_random, count);
        float[] outGrad = Numerics.RandomFloats(_random, count), gateGrad = Numerics.RandomFloats(_random, count), upGrad = Numerics.RandomFloats(_random, count);
        using var buffers = new KernelBuffers(device());
        ulong dg = buffers.Floats(gateGrad, offset), du = buffers.Floats(upGrad, offset);
        new ElementwiseKernels(device()).SwiGluBackward(buffers.Floats(gate, offset), buffers.Floats(up, offset), buffers.Floats(outGrad, offset), dg, du, count);

        using var reference = new ReferenceBackend();
        var (rdg, rdu) = (reference.FromFloats(gateGrad, count), reference.FromFloats(upGrad, count));
        reference.SwiGluBackward(reference.FromFloats(gate, count), reference.FromFloats(up, count), reference.FromFloats(outGrad, count), rdg, rdu);
        KernelAssert.Close(buffers.ReadFloats(dg, count), reference.ToDoubles(rdg), KernelAssert.F32Tolerance, "d(gate)");
        KernelAssert.Close(buffers.ReadFloats(du, count), reference.ToDoubles(rdu), KernelAssert.F32Tolerance, "d(up)");
    }

    [Theory]
    [InlineData(1, 0, false)]
    [InlineData(67, 1, false)]
    [InlineData(4099, 0, false)]
    [InlineData(4099, 3, true)]
    [InlineData(1025, 0, true)]
    public void Add_updates_the_first_input_in_place(int count, int offset, bool bf16)
    {
        float[] a = Numerics.RandomFloats(_random, count), b = Numerics.RandomFloats(_random, count);
        if (bf16) (a, b) = (Bf16.Round(a), Bf16.Round(b));
        using var buffers = new KernelBuffers(device());
        ulong x = bf16 ? buffers.Bf16Values(a, offset) : buffers.Floats(a, offset);
        ulong y = bf16 ? buffers.Bf16Values(b, offset) : buffers.Floats(b, offset);
        new ElementwiseKernels(device()).Add(x, y, x, count, bf16 ? KernelStorage.Bf16 : KernelStorage.F32);
        var expected = new double[count];
        for (int i = 0; i < count; i++) expected[i] = (double)a[i] + b[i];
        KernelAssert.Close(bf16 ? buffers.ReadBf16(x, count) : buffers.ReadFloats(x, count), expected,
            bf16 ? KernelAssert.Bf16Tolerance : KernelAssert.F32Tolerance, bf16 ? "add bf16" : "add f32");
    }

    private static double[] ReferenceSwiGlu(float[] gate, float[] up)
    {
        using var reference = new ReferenceBackend();
        var output = reference.Allocate(gate.Length);
        reference.SwiGlu(reference.FromFloats(gate, gate.Length), reference.FromFloats(up, up.Length), output);
        return reference.ToDoubles(output);
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedElementwiseKernelTests(KernelDevices devices) : ElementwiseKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaElementwiseKernelTests(KernelDevices devices) : ElementwiseKernelTests(() => devices.Cuda);
