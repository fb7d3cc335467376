using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>RMSNorm over rows: y = x · w / sqrt(mean(x²) + eps), accumulated in float64 per row, and its backward.</summary>
internal static class CpuRmsNorm
{
    /// <summary>
    /// y = rmsnorm(x); with a residual, the sum x + residual is first stored into <paramref name="sum"/> (may be x) and
    /// normalised instead, while its row is still in cache.
    /// </summary>
    public static unsafe void Forward(float* x, float* residual, float* sum, float* weight, float* y, float* inverseRms, long rows, int width,
        float epsilon, CpuParallel parallel)
    {
        parallel.ForRanges(rows, (start, end) =>
        {
            var w = new ReadOnlySpan<float>(weight, width);
            for (long row = start; row < end; row++)
            {
                ReadOnlySpan<float> xr = new(x + row * width, width);
                if (residual != null)
                {
                    var sr = new Span<float>(sum + row * width, width);
                    TensorPrimitives.Add(xr, new ReadOnlySpan<float>(residual + row * width, width), sr);
                    xr = sr;
                }
                var yr = new Span<float>(y + row * width, width);
                float inv = (float)(1.0 / Math.Sqrt(CpuSums.SumOfSquares(xr) / width + epsilon));
                TensorPrimitives.Multiply(xr, inv, yr);
                TensorPrimitives.Multiply(yr, w, yr);
                if (inverseRms != null) inverseRms[row] = inv;
            }
        }, minimumItemsPerRange: Math.Max(1, 16384 / width));
    }

    private const int MinimumElementsPerGroup = 16384;
    // A fixed number, not one a thread: the grouping is dw's summation order, so any thread count gives the same bits.
    private const int MaximumGroups = 8;

    /// <summary>
    /// With r = 1/rms: dx += r·w·dy − x·r³/H·Σ(dy·w·x) per row, dw += Σ_rows dy·x·r. Rows are split in
    /// groups; each group sums its dw into its own partial and the partials are added in group order,
    /// so dw has no races and depends neither on scheduling nor on the thread count.
    /// </summary>
    public static unsafe void Backward(float* x, float* weight, float* inverseRms, float* outputGrad, float* inputGrad, float* weightGrad,
        long rows, int width, CpuParallel parallel)
    {
        int groups = (int)Math.Max(1, Math.Min(Math.Min(rows, MaximumGroups), rows * width / MinimumElementsPerGroup));
        var weightPartials = new float[groups * width];
        parallel.ForEach(groups, group =>
        {
            var w = new ReadOnlySpan<float>(weight, width);
            var dw = weightPartials.AsSpan(group * width, width);
            var scratch = new float[width];
            for (long row = rows * group / groups; row < rows * (group + 1) / groups; row++)
            {
                var xr = new ReadOnlySpan<float>(x + row * width, width);
                var dy = new ReadOnlySpan<float>(outputGrad + row * width, width);
                var dx = new Span<float>(inputGrad + row * width, width);
                float r = inverseRms[row];
                TensorPrimitives.Multiply(dy, w, scratch);
                float projection = (float)((double)r * r * r * CpuSums.Dot(scratch, xr) / width);
                TensorPrimitives.MultiplyAdd(scratch, r, dx, dx);
                TensorPrimitives.MultiplyAdd(xr, -projection, dx, dx);
                if (weightGrad == null) continue; // a frozen weight
                TensorPrimitives.Multiply(dy, xr, scratch);
                TensorPrimitives.MultiplyAdd(scratch, r, dw, dw);
            }
        });
        if (weightGrad == null) return;
        var weightGradSpan = new Span<float>(weightGrad, width);
        for (int group = 0; group < groups; group++)
            TensorPrimitives.Add(weightGradSpan, weightPartials.AsSpan(group * width, width), weightGradSpan);
    }
}
