namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>PPO's policy and value losses on the device (kernels/ppo_losses.cu): one block each, nothing read back.</summary>
public sealed class PpoLossKernels(IKernelDevice device)
{
    private static readonly LaunchShape OneBlock = new(new Dim3(1), new Dim3(256));

    /// <summary>The clipped surrogate and entropy bonus over <paramref name="rows"/> rows (float32 per row, int32 targets).</summary>
    public void Policy(ulong logProbs, ulong entropy, ulong oldLogProbs, ulong advantages, ulong targets, long rows, double clip, double coefficient, double tokens,
        ulong logProbGradient, ulong entropyGradient, ulong lossSum, ulong statistics) =>
        device.Launch("c2f_ppo_policy_loss_f32", OneBlock, KernelArg.Pointer(logProbs), KernelArg.Pointer(entropy), KernelArg.Pointer(oldLogProbs),
            KernelArg.Pointer(advantages), KernelArg.Pointer(targets), MemoryBoundLaunch.Int(rows, nameof(rows)), clip, coefficient, tokens,
            KernelArg.Pointer(logProbGradient), KernelArg.Pointer(entropyGradient), KernelArg.Pointer(lossSum), KernelArg.Pointer(statistics));

    /// <summary>The clipped value loss over <paramref name="rows"/> rows.</summary>
    public void Value(ulong values, ulong oldValues, ulong returns, ulong targets, long rows, double clip, double coefficient, double tokens,
        ulong valueGradient, ulong lossSum, ulong statistics) =>
        device.Launch("c2f_ppo_value_loss_f32", OneBlock, KernelArg.Pointer(values), KernelArg.Pointer(oldValues), KernelArg.Pointer(returns),
            KernelArg.Pointer(targets), MemoryBoundLaunch.Int(rows, nameof(rows)), clip, coefficient, tokens, KernelArg.Pointer(valueGradient),
            KernelArg.Pointer(lossSum), KernelArg.Pointer(statistics));
}
