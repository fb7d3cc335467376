using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Σ x² in float64, reduced on the device in two deterministic passes (no atomics): each group reduces a
/// grid-stride share of one tensor (per-thread float64 sums, warp shuffles, then the warps' sums through shared
/// memory) to one partial, the partials of all tensors side by side; a single group then adds them in order.
/// One float64 is read back, however many tensors.
/// </summary>
internal sealed class SumOfSquaresKernels(KernelLaunch launch, DeviceScratch scratch)
{
    private const int GroupSize = KernelLaunch.MaxGroupSize, MaxWarps = GroupSize;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>> _partials =
        launch.Load<ArrayView<float>, ArrayView<double>>(PartialsKernel);
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<double>> _total =
        launch.Load<ArrayView<double>, ArrayView<double>>(TotalKernel);

    public double Sum(IReadOnlyList<ArrayView<float>> tensors)
    {
        var groups = tensors.Select(t => t.Length == 0 ? 0 : launch.Groups(t.Length, GroupSize, GroupSize)).ToArray();
        int partialCount = groups.Sum();
        if (partialCount == 0) return 0;
        var partials = scratch.Get<double>(partialCount + 1);
        var total = partials.SubView(partialCount, 1);
        for (int i = 0, next = 0; i < tensors.Count; next += groups[i], i++)
            if (groups[i] > 0) _partials(new KernelConfig(groups[i], GroupSize), tensors[i], partials.SubView(next, groups[i]));
        _total(new KernelConfig(1, GroupSize), partials.SubView(0, partialCount), total);
        var result = new double[1];
        total.CopyToCPU(result.AsSpan());
        launch.Counter.Synced();
        launch.Counter.Downloaded(sizeof(double));
        return result[0];
    }

    private static void PartialsKernel(ArrayView<float> values, ArrayView<double> partials)
    {
        double sum = 0;
        for (long i = DeviceMath.GlobalThread; i < values.Length; i += DeviceMath.GlobalThreads) sum += (double)values[i] * values[i];
        double groupSum = GroupSum(sum);
        if (Group.IsFirstThread) partials[Grid.IdxX] = groupSum;
    }

    private static void TotalKernel(ArrayView<double> partials, ArrayView<double> total)
    {
        double sum = 0;
        for (int i = Group.IdxX; i < partials.Length; i += Group.DimX) sum += partials[i];
        double groupSum = GroupSum(sum);
        if (Group.IsFirstThread) total[0] = groupSum;
    }

    /// <summary>The group's sum, valid in the first thread.</summary>
    private static double GroupSum(double value)
    {
        var warpSums = SharedMemory.Allocate<double>(MaxWarps);
        value = DeviceMath.WarpSum(value);
        if (Warp.IsFirstLane) warpSums[Warp.WarpIdx] = value;
        Group.Barrier();
        double sum = 0;
        if (Group.IsFirstThread)
            for (int w = 0; w < Group.DimX / Warp.WarpSize; w++) sum += warpSums[w];
        return sum;
    }
}
