using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// Fused AdamW, one tensor and the multi-tensor table (with and without weight decay, with bf16 copies, tensors
/// off a 16-byte boundary and spanning several chunks), against the float64 reference.
/// </summary>
public abstract class AdamWKernelTests(Func<IKernelDevice> device)
{
    private static readonly AdamWStep Step = new(LearningRate: 1e-3f, Beta1: 0.9f, Beta2: 0.95f, Epsilon: 1e-8f, WeightDecay: 0.1f, Step: 3,
        GradientScale: 0.5f);

    private readonly Random _random = new(2024);

    [Theory]
    [InlineData(1, 0)]
    [InlineData(67, 1)]
    [InlineData(1025, 0)]
    [InlineData(4099, 2)]
    public void Step_matches_reference(int count, int offset)
    {
        var state = State.Random(_random, count);
        using var buffers = new KernelBuffers(device());
        var (p, g, m, v) = state.Upload(buffers, offset);
        new AdamWKernels(device()).Step(p, g, m, v, count, Step);
        state.AssertMatchesReference(buffers, p, m, v, Step, "adamw");
    }

    [Fact]
    public void Multi_tensor_step_updates_every_tensor_and_writes_bf16_copies()
    {
        (int Count, int Offset, bool Decay, bool Copy)[] layout =
            [(1, 0, true, true), (67, 1, false, false), (4099, 0, true, true), (1025, 2, false, true), (AdamWKernels.ChunkElements * 2 + 5, 0, true, false)];
        using var buffers = new KernelBuffers(device());
        var states = layout.Select(l => State.Random(_random, l.Count)).ToArray();
        var tensors = new List<AdamWTensor>();
        var uploaded = new List<(ulong P, ulong M, ulong V, ulong Copy)>();
        for (int i = 0; i < layout.Length; i++)
        {
            var (p, g, m, v) = states[i].Upload(buffers, layout[i].Offset);
            ulong copy = layout[i].Copy ? buffers.Poisoned(layout[i].Count, layout[i].Offset, bf16: true) : 0;
            tensors.Add(new AdamWTensor(p, g, m, v, layout[i].Count, layout[i].Decay, copy));
            uploaded.Add((p, m, v, copy));
        }
        using var table = new AdamWTable(device(), tensors);
        new AdamWKernels(device()).Step(table, Step);
        for (int i = 0; i < layout.Length; i++)
        {
            var step = layout[i].Decay ? Step : Step with { WeightDecay = 0 };
            var expected = states[i].AssertMatchesReference(buffers, uploaded[i].P, uploaded[i].M, uploaded[i].V, step, $"tensor {i}");
            if (layout[i].Copy)
                KernelAssert.Close(buffers.ReadBf16(uploaded[i].Copy, layout[i].Count), expected, KernelAssert.Bf16Tolerance, $"tensor {i} bf16 copy");
        }
    }

    private sealed record State(float[] Parameter, float[] Gradient, float[] FirstMoment, float[] SecondMoment)
    {
        public static State Random(Random random, int count) => new(Numerics.RandomFloats(random, count), Numerics.RandomFloats(random, count),
            Numerics.RandomFloats(random, count, 0.1f), Array.ConvertAll(Numerics.RandomFloats(random, count, 0.01f), MathF.Abs));

        public (ulong P, ulong G, ulong M, ulong V) Upload(KernelBuffers buffers, int offset) =>
            (buffers.Floats(Parameter, offset), buffers.Floats(Gradient, offset), buffers.Floats(FirstMoment, offset), buffers.Floats(SecondMoment, offset));

        /// <summary>Checks the updated parameter and moments; returns the reference parameter.</summary>
        public double[] AssertMatchesReference(KernelBuffers buffers, ulong p, ulong m, ulong v, AdamWStep step, string what)
        {
            int n = Parameter.Length;
            using var reference = new ReferenceBackend();
            var (rp, rm, rv) = (reference.FromFloats(Parameter, n), reference.FromFloats(FirstMoment, n), reference.FromFloats(SecondMoment, n));
            reference.AdamW(rp, reference.FromFloats(Gradient, n), rm, rv, step);
            var expected = reference.ToDoubles(rp);
            KernelAssert.Close(buffers.ReadFloats(p, n), expected, KernelAssert.F32Tolerance, $"{what} parameter");
            KernelAssert.Close(buffers.ReadFloats(m, n), reference.ToDoubles(rm), KernelAssert.F32Tolerance, $"{what} first moment");
            KernelAssert.Close(buffers.ReadFloats(v, n), reference.ToDoubles(rv), KernelAssert.F32Tolerance, $"{what} second moment");
            return expected;
        }
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedAdamWKernelTests(KernelDevices devices) : AdamWKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaAdamWKernelTests(KernelDevices devices) : AdamWKernelTests(() => devices.Cuda);
