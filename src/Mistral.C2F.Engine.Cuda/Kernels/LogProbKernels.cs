namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Token log-probabilities over logits [rows, vocab] and their backward (kernels/logprobs.cu): a block per row
/// streams the vocabulary once in 16-byte vectors with an online softmax state. Per-row values are float32; the
/// logits (and their gradient) are float32 or bf16. A target ≥ vocab is recorded in <see cref="KernelFaults"/>
/// and never read; a negative target is a masked position.
/// </summary>
public sealed class LogProbKernels(IKernelDevice device, KernelFaults faults)
{
    private const int MaxThreads = 512;

    /// <summary>
    /// Per row: logProbs = z[target] − lse (0 where the target is negative), logSumExp = log Σ e^z, and the
    /// softmax entropy H = lse − Σ p·z into <paramref name="entropy"/> unless it is 0.
    /// </summary>
    public void Forward(ulong logits, ulong targets, ulong logProbs, ulong logSumExp, ulong entropy, long rows, int vocab,
        KernelStorage storage = KernelStorage.F32)
    {
        if (rows == 0) return;
        device.Launch($"c2f_logprobs_forward_{storage.Suffix()}", Shape(rows, vocab, storage), KernelArg.Pointer(logits),
            KernelArg.Pointer(targets), KernelArg.Pointer(logProbs), KernelArg.Pointer(logSumExp), KernelArg.Pointer(entropy),
            MemoryBoundLaunch.Int(rows, nameof(rows)), vocab, KernelArg.Pointer(faults.Address));
    }

    /// <summary>
    /// Accumulates into d(logits) the gradient of Σ logProbGrad·logProb (+ Σ entropyGrad·entropy when both
    /// <paramref name="entropy"/> and <paramref name="entropyGrad"/> are given, else both 0):
    /// dz_v += a·(1[v = t] − p_v) − b·p_v·(log p_v + H), with a = 0 on masked rows.
    /// </summary>
    public void Backward(ulong logits, ulong targets, ulong logSumExp, ulong logProbGrad, ulong entropy, ulong entropyGrad,
        ulong logitsGrad, long rows, int vocab, KernelStorage storage = KernelStorage.F32)
    {
        if ((entropy == 0) != (entropyGrad == 0))
            throw new ArgumentException("TokenLogProbsBackward: give both the entropy and its gradient, or neither");
        if (rows == 0 || vocab == 0) return;
        device.Launch($"c2f_logprobs_backward_{storage.Suffix()}", Shape(rows, vocab, storage), KernelArg.Pointer(logits),
            KernelArg.Pointer(targets), KernelArg.Pointer(logSumExp), KernelArg.Pointer(logProbGrad), KernelArg.Pointer(entropy),
            KernelArg.Pointer(entropyGrad), KernelArg.Pointer(logitsGrad), MemoryBoundLaunch.Int(rows, nameof(rows)), vocab,
            KernelArg.Pointer(faults.Address));
    }

    private static LaunchShape Shape(long rows, int vocab, KernelStorage storage) =>
        MemoryBoundLaunch.RowBlocks(rows, vocab, storage.VectorWidth(), MaxThreads);
}
