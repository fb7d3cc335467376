namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>The reward model's Bradley–Terry loss on the device (kernels/bradley_terry.cu): one block, nothing read back.</summary>
public sealed class BradleyTerryKernels(IKernelDevice device)
{
    private const int Threads = 256;

    /// <summary>
    /// For <paramref name="pairs"/> pairs and the pull <paramref name="centering"/> of each pair's score sum to zero: the score gradient written at <paramref name="gradient"/>, the summed loss added
    /// to <paramref name="lossSum"/> and the four statistics to <paramref name="statistics"/> (all float32).
    /// </summary>
    public void Loss(ulong scores, ulong margins, long pairs, double centering, double gradientPairs, ulong gradient, ulong lossSum, ulong statistics) =>
        device.Launch("c2f_bradley_terry_f32", new LaunchShape(new Dim3(1), new Dim3(Threads)), KernelArg.Pointer(scores), KernelArg.Pointer(margins),
            MemoryBoundLaunch.Int(pairs, nameof(pairs)), centering, gradientPairs, KernelArg.Pointer(gradient), KernelArg.Pointer(lossSum), KernelArg.Pointer(statistics));
}
