using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>One float32 parameter of a multi-tensor AdamW step; <see cref="Bf16Copy"/> 0 when it has no bf16 copy.</summary>
public readonly record struct AdamWTensor(ulong Parameter, ulong Gradient, ulong FirstMoment, ulong SecondMoment, long Count,
    bool WeightDecay, ulong Bf16Copy = 0);

/// <summary>The device addresses of an <see cref="AdamWGuard"/>'s loss and gradient norm (float32 each) and its clipping bound.</summary>
public readonly record struct AdamWDeviceGuard(ulong Loss, ulong GradientNorm, float MaxGradientNorm);

/// <summary>
/// Fused AdamW (kernels/adamw.cu) with the semantics of <see cref="AdamWStep"/>: each element read and written
/// once (28 bytes per parameter). <see cref="Step(ulong, ulong, ulong, ulong, long, AdamWStep)"/> updates one tensor;
/// <see cref="Step(AdamWTable, AdamWStep)"/> updates every parameter of a model in one launch and writes the
/// bf16 copies of the weights in the same pass.
/// </summary>
public sealed class AdamWKernels(IKernelDevice device)
{
    private const int Threads = 256;
    private const int MaxMultiBlocks = 4096;

    /// <summary>Elements per chunk of the multi-tensor kernel: 4 vectors of 4 floats per thread.</summary>
    internal const int ChunkElements = Threads * 16;

    /// <summary>AdamW on one tensor of <paramref name="count"/> float32 elements (weight decay as the step says).</summary>
    public void Step(ulong parameter, ulong gradient, ulong firstMoment, ulong secondMoment, long count, AdamWStep step)
    {
        step.Validate();
        if (count == 0) return;
        var s = new Scalars(step);
        device.Launch("c2f_adamw_step_f32", MemoryBoundLaunch.Flat(count, 4), KernelArg.Pointer(parameter), KernelArg.Pointer(gradient),
            KernelArg.Pointer(firstMoment), KernelArg.Pointer(secondMoment), MemoryBoundLaunch.Int(count, nameof(count)),
            s.GradientScale, s.Beta1, s.Beta2, s.StepSize, s.InverseSqrtSecondCorrection, s.Epsilon, s.Decay);
    }

    /// <summary>
    /// AdamW on every tensor of the table; tensors without <see cref="AdamWTensor.WeightDecay"/> are not decayed. With a
    /// guard, the device skips the update unless its loss and norm are finite and clips the gradient to its bound.
    /// </summary>
    public void Step(AdamWTable table, AdamWStep step, AdamWDeviceGuard? guard = null)
    {
        step.Validate();
        if (table.Chunks == 0) return;
        var s = new Scalars(step);
        var shape = new LaunchShape(new Dim3((uint)Math.Min(table.Chunks, MaxMultiBlocks)), new Dim3(Threads));
        device.Launch("c2f_adamw_multi_f32", shape, KernelArg.Pointer(table.Address), table.Count, table.Chunks, ChunkElements,
            s.GradientScale, s.Beta1, s.Beta2, s.StepSize, s.InverseSqrtSecondCorrection, s.Epsilon, s.Decay,
            KernelArg.Pointer(guard?.Loss ?? 0), KernelArg.Pointer(guard?.GradientNorm ?? 0), guard?.MaxGradientNorm ?? 0f);
    }

    /// <summary>The step folded once on the host: p ← p·decay − stepSize·m / (√v·invSqrtC₂ + ε).</summary>
    private readonly struct Scalars(AdamWStep step)
    {
        public readonly float GradientScale = step.GradientScale, Beta1 = step.Beta1, Beta2 = step.Beta2, Epsilon = step.Epsilon;
        public readonly float StepSize = (float)(step.LearningRate / step.FirstMomentCorrection);
        public readonly float InverseSqrtSecondCorrection = (float)(1 / Math.Sqrt(step.SecondMomentCorrection));
        public readonly float Decay = (float)(1 - (double)step.LearningRate * step.WeightDecay);
    }
}

/// <summary>
/// The device table of a multi-tensor AdamW step, uploaded once (the parameters' buffers do not move between
/// steps). Tensors are cut into chunks of <see cref="AdamWKernels.ChunkElements"/>, numbered across the table.
/// </summary>
public sealed class AdamWTable : IDisposable
{
    private readonly DeviceBuffer _entries;

    public AdamWTable(IKernelDevice device, IReadOnlyList<AdamWTensor> tensors)
    {
        var entries = new TensorEntry[tensors.Count];
        long chunks = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t.Count <= 0) throw new ArgumentException($"AdamW table: tensor {i} has {t.Count} elements");
            entries[i] = new TensorEntry(t.Parameter, t.Gradient, t.FirstMoment, t.SecondMoment, t.Bf16Copy, t.Count, chunks, t.WeightDecay ? 1 : 0, 0);
            chunks += (t.Count + AdamWKernels.ChunkElements - 1) / AdamWKernels.ChunkElements;
        }
        Count = tensors.Count;
        Chunks = MemoryBoundLaunch.Int(chunks, "AdamW chunks");
        _entries = device.Allocate(Math.Max(1, entries.Length) * Marshal.SizeOf<TensorEntry>());
        device.Upload<TensorEntry>(entries, _entries.Address);
    }

    public int Count { get; }
    public int Chunks { get; }
    internal ulong Address => _entries.Address;

    public void Dispose() => _entries.Dispose();

    /// <summary>The layout of TensorEntry in kernels/adamw.cu: 64 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    private readonly record struct TensorEntry(ulong Parameter, ulong Gradient, ulong FirstMoment, ulong SecondMoment, ulong Copy,
        long Count, long FirstChunk, int WeightDecay, int Padding);
}
