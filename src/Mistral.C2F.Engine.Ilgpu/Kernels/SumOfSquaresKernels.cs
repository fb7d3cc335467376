using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Σ x² in float64, reduced on the device in two deterministic passes (no atomics): each group reduces a
/// grid-stride share (per-thread float64 sums, warp shuffles, then the warps' sums through shared memory)
/// to one partial; a single group then adds the partials in order. One float64 is read back.
/// </summary>
internal sealed class SumOfSquaresKernels(KernelLaunch launch, DeviceScratch scratch)
{
    private const int GroupSize = KernelLaunch.MaxGroupSize, MaxWarps = GroupSize;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>> _partials =
        launch.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<double>>(PartialsKernel);
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<double>> _total =
        launch.Accelerator.LoadStreamKernel<ArrayView<double>, ArrayView<double>>(TotalKernel);

    public double Sum(ArrayView<float> values)
    {
        if (values.Length == 0) return 0;
        int groups = launch.Groups(values.Length, GroupSize, GroupSize);
        var partials = scratch.Get<double>(groups + 1);
        var total = partials.SubView(groups, 1);
        _partials(new KernelConfig(groups, GroupSize), values, partials.SubView(0, groups));
        _total(new KernelConfig(1, GroupSize), partials.SubView(0, groups), total);
        var result = new double[1];
        total.CopyToCPU(result.AsSpan());
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
