namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Rotary embedding in place (kernels/rope.cu): a block per token, threads over the dimension pairs (x) and
/// the heads (y), so each angle is computed once per token. The angle is formed and reduced in float64 on the
/// device from r = θ^(−2/headDim), computed here.
/// </summary>
public sealed class RopeKernels(IKernelDevice device)
{
    private const int Threads = 256;

    /// <summary>
    /// Rotate-half RoPE of x [tokens, heads·headDim]: dimension d (&lt; headDim/2) of every head rotates with
    /// d + headDim/2 by position·θ^(−2d/headDim), positions an int32 [tokens]; <paramref name="inverse"/> rotates
    /// by minus the angle (the backward, applied to a gradient).
    /// </summary>
    public void Rotate(ulong x, ulong positions, long tokens, int rowLength, int headDim, double theta, bool inverse,
        KernelStorage storage = KernelStorage.F32) =>
        Launch($"c2f_rope_{storage.Suffix()}", [KernelArg.Pointer(x)], storage, positions, tokens, rowLength, headDim, theta, inverse);

    /// <summary>As <see cref="Rotate"/>, from float32 <paramref name="x"/> (left as it was) into <paramref name="output"/> stored as bf16.</summary>
    public void RotateToBf16(ulong x, ulong output, ulong positions, long tokens, int rowLength, int headDim, double theta, bool inverse) =>
        Launch("c2f_rope_f32_to_bf16", [KernelArg.Pointer(x), KernelArg.Pointer(output)], KernelStorage.F32, positions, tokens, rowLength,
            headDim, theta, inverse);

    private void Launch(string kernel, KernelArg[] tensors, KernelStorage storage, ulong positions, long tokens, int rowLength, int headDim,
        double theta, bool inverse)
    {
        if (headDim <= 0 || headDim % 2 != 0 || rowLength % headDim != 0)
            throw new ArgumentException($"RoPE: head dim {headDim} must be even and divide the row length {rowLength}");
        if (tokens == 0 || rowLength == 0) return;
        int heads = rowLength / headDim, half = headDim / 2;
        int pairThreads = Math.Clamp(half / storage.VectorWidth(), 1, Threads);
        var block = new Dim3((uint)pairThreads, (uint)Math.Clamp(Threads / pairThreads, 1, heads));
        var shape = new LaunchShape(new Dim3(checked((uint)tokens)), block);
        device.Launch(kernel, shape, [.. tensors, KernelArg.Pointer(positions), MemoryBoundLaunch.Int(tokens, nameof(tokens)), heads, headDim,
            Math.Pow(theta, -2.0 / headDim), inverse ? 1 : 0]);
    }
}
