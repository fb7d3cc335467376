using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Sums of float32 tensors in float64, reduced on the device in two deterministic passes (no atomics): each group
/// reduces a grid-stride share of one tensor (per-thread float64 sums, warp shuffles, then the warps' sums through
/// shared memory) to one partial, the partials of all tensors side by side; a single group then adds them in order and
/// finishes: Σ x² read back (one float64, however many tensors), or left on the device as the global gradient norm
/// √Σ x² or added, scaled, to a loss total.
/// </summary>
internal sealed class ReductionKernels(KernelLaunch launch, DeviceScratch scratch)
{
    private const int GroupSize = KernelLaunch.MaxGroupSize, MaxWarps = GroupSize;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>> _squarePartials =
        launch.Load<ArrayView<float>, ArrayView<double>>(SquarePartialsKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>> _sumPartials =
        launch.Load<ArrayView<float>, ArrayView<double>>(SumPartialsKernel);
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<double>> _total =
        launch.Load<ArrayView<double>, ArrayView<double>>(TotalKernel);
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<float>> _norm =
        launch.Load<ArrayView<double>, ArrayView<float>>(NormKernel);
    private readonly Action<KernelConfig, ArrayView<double>, double, ArrayView<float>> _accumulate =
        launch.Load<ArrayView<double>, double, ArrayView<float>>(AccumulateKernel);

    /// <summary>Σ x² over every tensor, read back: one wait.</summary>
    public double SumOfSquares(IReadOnlyList<ArrayView<float>> tensors)
    {
        var partials = Partials(_squarePartials, tensors, extra: 1);
        var total = partials.SubView(partials.Length - 1, 1);
        _total(new KernelConfig(1, GroupSize), partials.SubView(0, partials.Length - 1), total);
        var result = new double[1];
        total.CopyToCPU(result.AsSpan());
        launch.Counter.Synced();
        launch.Counter.Downloaded(sizeof(double));
        return result[0];
    }

    /// <summary>norm[0] = √Σ x² over every tensor, rounded to float, left on the device.</summary>
    public void Norm(IReadOnlyList<ArrayView<float>> tensors, ArrayView<float> norm) =>
        _norm(new KernelConfig(1, GroupSize), Partials(_squarePartials, tensors, extra: 0), norm);

    /// <summary>total[0] += scale · Σ values, in float64, rounded to float, left on the device.</summary>
    public void AccumulateSum(ArrayView<float> values, double scale, ArrayView<float> total) =>
        _accumulate(new KernelConfig(1, GroupSize), Partials(_sumPartials, [values], extra: 0), scale, total);

    /// <summary>The partials of every tensor side by side (empty tensors have none), with <paramref name="extra"/> slots after them.</summary>
    private ArrayView<double> Partials(Action<KernelConfig, ArrayView<float>, ArrayView<double>> kernel, IReadOnlyList<ArrayView<float>> tensors, int extra)
    {
        var groups = tensors.Select(t => t.Length == 0 ? 0 : launch.Groups(t.Length, GroupSize, GroupSize)).ToArray();
        int partialCount = groups.Sum();
        // At least one slot, zeroed, so that no tensors (or only empty ones) sum to 0.
        var partials = scratch.Get<double>(Math.Max(1, partialCount) + extra);
        if (partialCount == 0) partials.SubView(0, 1).MemSetToZero();
        for (int i = 0, next = 0; i < tensors.Count; next += groups[i], i++)
            if (groups[i] > 0) kernel(new KernelConfig(groups[i], GroupSize), tensors[i], partials.SubView(next, groups[i]));
        return partials.SubView(0, Math.Max(1, partialCount) + extra);
    }

    private static void SquarePartialsKernel(ArrayView<float> values, ArrayView<double> partials)
    {
        double sum = 0;
        for (long i = DeviceMath.GlobalThread; i < values.Length; i += DeviceMath.GlobalThreads) sum += (double)values[i] * values[i];
        double groupSum = GroupSum(sum);
        if (Group.IsFirstThread) partials[Grid.IdxX] = groupSum;
    }

    private static void SumPartialsKernel(ArrayView<float> values, ArrayView<double> partials)
    {
        double sum = 0;
        for (long i = DeviceMath.GlobalThread; i < values.Length; i += DeviceMath.GlobalThreads) sum += values[i];
        double groupSum = GroupSum(sum);
        if (Group.IsFirstThread) partials[Grid.IdxX] = groupSum;
    }

    private static void TotalKernel(ArrayView<double> partials, ArrayView<double> total)
    {
        double sum = OrderedSum(partials);
        if (Group.IsFirstThread) total[0] = sum;
    }

    private static void NormKernel(ArrayView<double> partials, ArrayView<float> norm)
    {
        double sum = OrderedSum(partials);
        if (Group.IsFirstThread) norm[0] = (float)Math.Sqrt(sum);
    }

    private static void AccumulateKernel(ArrayView<double> partials, double scale, ArrayView<float> total)
    {
        double sum = OrderedSum(partials);
        if (Group.IsFirstThread) total[0] = (float)(total[0] + scale * sum);
    }

    /// <summary>Σ partials by one group in a fixed order, valid in the first thread.</summary>
    private static double OrderedSum(ArrayView<double> partials)
    {
        double sum = 0;
        for (int i = Group.IdxX; i < partials.Length; i += Group.DimX) sum += partials[i];
        return GroupSum(sum);
    }

    /// <summary>The group's sum, valid in the first thread.</summary>
    public static double GroupSum(double value)
    {
        var warpSums = SharedMemory.Allocate<double>(MaxWarps);
        value = DeviceMath.WarpSum(value);
        if (Warp.IsFirstLane) warpSums[Warp.WarpIdx] = value;
        Group.Barrier();
        double sum = 0;
        if (Group.IsFirstThread)
            for (int w = 0; w < Group.DimX / Warp.WarpSize; w++) sum += warpSums[w];
        Group.Barrier();  // the slots may be reused by the caller's next sum
        return sum;
    }
}
