namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// SwiGLU, its backward and Add (kernels/swiglu.cu): grid-stride loops over 16-byte vectors. Addresses are
/// of the tensors' first elements; views at any element offset are fine (the kernels fall back to scalars
/// where the pointers do not share a 16-byte alignment).
/// </summary>
public sealed class ElementwiseKernels(IKernelDevice device)
{
    /// <summary>
    /// output = silu(gate)·up = gate·σ(gate)·up, elementwise over <paramref name="count"/> elements; the output stored
    /// as <paramref name="outputStorage"/> (by default as the inputs: float32 inputs may write bf16 for a bf16 product).
    /// </summary>
    public void SwiGlu(ulong gate, ulong up, ulong output, long count, KernelStorage storage = KernelStorage.F32, KernelStorage? outputStorage = null)
    {
        if (count == 0) return;
        device.Launch($"c2f_swiglu_forward_{storage.Suffix(outputStorage ?? storage)}", MemoryBoundLaunch.Flat(count, storage.VectorWidth()),
            KernelArg.Pointer(gate), KernelArg.Pointer(up), KernelArg.Pointer(output), MemoryBoundLaunch.Int(count, nameof(count)));
    }

    /// <summary>Backward of <see cref="SwiGlu"/> (float32): accumulates d(gate) += dout·u·σ(g)·(1 + g·(1 − σ(g))) and d(up) += dout·g·σ(g).</summary>
    public void SwiGluBackward(ulong gate, ulong up, ulong outputGrad, ulong gateGrad, ulong upGrad, long count)
    {
        if (count == 0) return;
        device.Launch("c2f_swiglu_backward_f32", MemoryBoundLaunch.Flat(count, KernelStorage.F32.VectorWidth()),
            KernelArg.Pointer(gate), KernelArg.Pointer(up), KernelArg.Pointer(outputGrad), KernelArg.Pointer(gateGrad),
            KernelArg.Pointer(upGrad), MemoryBoundLaunch.Int(count, nameof(count)));
    }

    /// <summary>output = a + b; <paramref name="output"/> may be <paramref name="a"/> or <paramref name="b"/> (the residual stream in place).</summary>
    public void Add(ulong a, ulong b, ulong output, long count, KernelStorage storage = KernelStorage.F32)
    {
        if (count == 0) return;
        device.Launch($"c2f_swiglu_add_{storage.Suffix()}", MemoryBoundLaunch.Flat(count, storage.VectorWidth()),
            KernelArg.Pointer(a), KernelArg.Pointer(b), KernelArg.Pointer(output), MemoryBoundLaunch.Int(count, nameof(count)));
    }
}
