using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Token log-probabilities, log-sum-exp and entropy per row of logits [N, V], and the backward.
/// Forward: a group owns a row (the vocabulary is the long axis); each thread streams its strided share
/// once with an online softmax state (max m, S = Σ e^(z−m), T = Σ e^(z−m)·(z−m)), states merge across the
/// warp by butterfly shuffles and across warps through shared memory. lse = m + log S, H = log S − T/S.
/// Backward: a flat grid-stride pass over all N·V logits; each element's gradient is written by its own
/// thread (the target's +a included), so there are no races.
/// </summary>
internal sealed class LogProbKernels(KernelLaunch launch, DeviceFaults faults)
{
    private const int MaxWarps = KernelLaunch.MaxGroupSize; // a slot per warp for any warp size ≥ 1

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, RowOutputs, int, ArrayView<int>> _forward =
        launch.Load<ArrayView<float>, ArrayView<int>, RowOutputs, int, ArrayView<int>>(ForwardKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, RowGradients, ArrayView<float>, int, ArrayView<int>> _backward =
        launch.Load<ArrayView<float>, ArrayView<int>, RowGradients, ArrayView<float>, int, ArrayView<int>>(BackwardKernel);

    /// <summary>Per-row outputs of the forward; <see cref="HasEntropy"/> = 0 leaves <see cref="Entropy"/> unwritten.</summary>
    internal readonly record struct RowOutputs(ArrayView<float> LogProbs, ArrayView<float> LogSumExp, ArrayView<float> Entropy, int HasEntropy);

    /// <summary>Per-row inputs of the backward; <see cref="HasEntropy"/> = 0 ignores the entropy term.</summary>
    internal readonly record struct RowGradients(ArrayView<float> LogSumExp, ArrayView<float> LogProbGrad, ArrayView<float> Entropy,
        ArrayView<float> EntropyGrad, int HasEntropy);

    public void Forward(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> logProbs, ArrayView<float> logSumExp,
        ArrayView<float>? entropy, int vocab)
    {
        if (targets.Length == 0) return;
        var outputs = new RowOutputs(logProbs, logSumExp, entropy ?? logSumExp, entropy is null ? 0 : 1);
        int group = launch.WarpsCovering(vocab);
        _forward(new KernelConfig(launch.Groups(targets.Length, 1, group), group), logits, targets, outputs, vocab, faults.View);
    }

    public void Backward(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> logSumExp, ArrayView<float> logProbGrad,
        ArrayView<float>? entropy, ArrayView<float>? entropyGrad, ArrayView<float> logitsGrad, int vocab)
    {
        if (logits.Length == 0) return;
        var rows = new RowGradients(logSumExp, logProbGrad, entropy ?? logSumExp, entropyGrad ?? logSumExp, entropy is null ? 0 : 1);
        _backward(launch.GridStride(logits.Length), logits, targets, rows, logitsGrad, vocab, faults.View);
    }

    private static void ForwardKernel(ArrayView<float> logits, ArrayView<int> targets, RowOutputs outputs, int vocab, ArrayView<int> faultRecord)
    {
        // Two sets of slots, alternating by row, so a row's writes never race the previous row's reads.
        var warpStates = SharedMemory.Allocate<SoftmaxState>(2 * MaxWarps);
        int warps = Group.DimX / Warp.WarpSize, slots = 0;
        for (long row = Grid.IdxX; row < targets.Length; row += Grid.DimX, slots = MaxWarps - slots)
        {
            long start = row * vocab;
            var state = new SoftmaxState(float.NegativeInfinity, 0, 0);
            for (int v = Group.IdxX; v < vocab; v += Group.DimX) state = state.Add(logits[start + v]);
            for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
                state = state.Merge(new SoftmaxState(Warp.ShuffleXor(state.Max, offset), Warp.ShuffleXor(state.Sum, offset), Warp.ShuffleXor(state.Weighted, offset)));
            if (Warp.IsFirstLane) warpStates[slots + Warp.WarpIdx] = state;
            Group.Barrier();
            if (Group.IsFirstThread)
            {
                var total = warpStates[slots];
                for (int w = 1; w < warps; w++) total = total.Merge(warpStates[slots + w]);
                float logSum = DeviceMath.Log(total.Sum), lse = total.Max + logSum;
                int target = targets[row];
                if (target >= vocab) DeviceFaults.Report(faultRecord, DeviceFault.TargetToken, target, vocab);
                outputs.LogSumExp[row] = lse;
                outputs.LogProbs[row] = target < 0 || target >= vocab ? 0 : logits[start + target] - lse;
                if (outputs.HasEntropy != 0) outputs.Entropy[row] = logSum - total.Weighted / total.Sum;
            }
        }
    }

    /// <summary>dz_v += a·(1[v = t] − p_v) − b·p_v·(log p_v + H), a the log-prob gradient (0 when masked), b the entropy gradient.</summary>
    private static void BackwardKernel(ArrayView<float> logits, ArrayView<int> targets, RowGradients rows, ArrayView<float> logitsGrad, int vocab,
        ArrayView<int> faultRecord)
    {
        for (long i = DeviceMath.GlobalThread; i < logits.Length; i += DeviceMath.GlobalThreads)
        {
            long row = i / vocab;
            int v = (int)(i - row * vocab), target = targets[row];
            if (target >= vocab)
            {
                if (v == 0) DeviceFaults.Report(faultRecord, DeviceFault.TargetToken, target, vocab);
                continue;
            }
            float a = target < 0 ? 0 : rows.LogProbGrad[row];
            float b = rows.HasEntropy != 0 ? rows.EntropyGrad[row] : 0;
            if (target < 0 && b == 0) continue; // a masked row without an entropy term adds nothing: −p·0 is NaN for a NaN logit
            float logP = logits[i] - rows.LogSumExp[row], p = DeviceMath.Exp(logP);
            float gradient = -p * (a + (b == 0 ? 0 : b * (rows.Entropy[row] + logP)));
            logitsGrad[i] += v == target ? gradient + a : gradient;
        }
    }

    /// <summary>Online softmax statistics of a set of logits: max m, S = Σ e^(z−m), T = Σ e^(z−m)·(z−m).</summary>
    internal readonly record struct SoftmaxState(float Max, float Sum, float Weighted)
    {
        public SoftmaxState Add(float z)
        {
            if (Sum == 0) return new SoftmaxState(z, 1, 0);
            if (z <= Max)
            {
                float d = z - Max, e = DeviceMath.Exp(d);
                return new SoftmaxState(Max, Sum + e, Weighted + e * d);
            }
            float shift = Max - z, f = DeviceMath.Exp(shift); // rescale to the new max
            return new SoftmaxState(z, f * Sum + 1, f * (Weighted + shift * Sum));
        }

        public SoftmaxState Merge(SoftmaxState other)
        {
            if (other.Sum == 0) return this;
            if (Sum == 0) return other;
            float max = DeviceMath.Maximum(Max, other.Max), d1 = Max - max, d2 = other.Max - max;
            float f1 = DeviceMath.Exp(d1), f2 = DeviceMath.Exp(d2);
            return new SoftmaxState(max, f1 * Sum + f2 * other.Sum, f1 * (Weighted + d1 * Sum) + f2 * (other.Weighted + d2 * other.Sum));
        }
    }
}
