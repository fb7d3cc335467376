using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>RMSNorm over rows: y = x · w / sqrt(mean(x²) + eps), accumulated in float64 per row.</summary>
internal static class CpuRmsNorm
{
    public static unsafe void Forward(float* x, float* weight, float* y, float* inverseRms, long rows, int width, float epsilon, CpuParallel parallel)
    {
        parallel.ForRanges(rows, (start, end) =>
        {
            var w = new ReadOnlySpan<float>(weight, width);
            for (long row = start; row < end; row++)
            {
                var xr = new ReadOnlySpan<float>(x + row * width, width);
                var yr = new Span<float>(y + row * width, width);
                float inv = (float)(1.0 / Math.Sqrt(CpuSums.SumOfSquares(xr) / width + epsilon));
                TensorPrimitives.Multiply(xr, inv, yr);
                TensorPrimitives.Multiply(yr, w, yr);
                if (inverseRms != null) inverseRms[row] = inv;
            }
        }, minimumItemsPerRange: Math.Max(1, 16384 / width));
    }
}
