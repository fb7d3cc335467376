using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// RMSNorm forward and backward. A warp owns a row: its lanes stride the columns (coalesced), the row's
/// sums are butterfly shuffles and no group barrier is needed. The weight gradient, a sum over rows, is
/// reduced in two race-free passes: fixed chunks of rows write per-column partials, then one thread per
/// column adds the partials in chunk order, so the result does not depend on scheduling.
/// </summary>
internal sealed class RmsNormKernels(KernelLaunch launch, DeviceScratch scratch)
{
    private const int RowsPerChunk = 64;
    private const int ColumnGroup = 128;

    private readonly Action<KernelConfig, ResidualViews, ArrayView<float>, ArrayView<float>, ArrayView<float>, RowShape> _forward =
        launch.Load<ResidualViews, ArrayView<float>, ArrayView<float>, ArrayView<float>, RowShape>(ForwardKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RowShape> _inputGrad =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RowShape>(InputGradKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RowShape> _weightGradPartials =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RowShape>(WeightGradPartialsKernel);
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, RowShape> _weightGradSum =
        launch.Load<ArrayView<float>, ArrayView<float>, RowShape>(WeightGradSumKernel);

    internal readonly record struct RowShape(long Rows, int Width, float Epsilon, int HasInverseRms, int HasResidual = 0);

    /// <summary>The input, and for the fused residual add the residual and the sum written (both the input when there is none).</summary>
    internal readonly record struct ResidualViews(ArrayView<float> Input, ArrayView<float> Residual, ArrayView<float> Sum);

    public void Forward(ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output, ArrayView<float>? inverseRms, long rows, int width, float epsilon)
    {
        if (rows == 0) return;
        var shape = new RowShape(rows, width, epsilon, inverseRms is null ? 0 : 1);
        _forward(launch.WarpPerRow(rows), new ResidualViews(input, input, input), weight, output, inverseRms ?? output, shape);
    }

    /// <summary>sum = input + residual (sum may be input), then output = rmsnorm(sum), in one pass per row.</summary>
    public void ResidualForward(ArrayView<float> input, ArrayView<float> residual, ArrayView<float> sum, ArrayView<float> weight,
        ArrayView<float> output, ArrayView<float>? inverseRms, long rows, int width, float epsilon)
    {
        if (rows == 0) return;
        var shape = new RowShape(rows, width, epsilon, inverseRms is null ? 0 : 1, HasResidual: 1);
        _forward(launch.WarpPerRow(rows), new ResidualViews(input, residual, sum), weight, output, inverseRms ?? output, shape);
    }

    public void Backward(ArrayView<float> input, ArrayView<float> weight, ArrayView<float> inverseRms, ArrayView<float> outputGrad,
        ArrayView<float> inputGrad, ArrayView<float>? weightGrad, long rows, int width)
    {
        if (rows == 0 || width == 0) return;
        var shape = new RowShape(rows, width, 0, 1);
        _inputGrad(launch.WarpPerRow(rows), input, weight, inverseRms, outputGrad, inputGrad, shape);
        if (weightGrad is not ArrayView<float> dw) return;
        int chunks = (int)((rows + RowsPerChunk - 1) / RowsPerChunk);
        var partials = scratch.Get<float>((long)chunks * width);
        int columnGroups = (width + ColumnGroup - 1) / ColumnGroup;
        _weightGradPartials(new KernelConfig(new Index2D(columnGroups, chunks), new Index2D(ColumnGroup, 1)), input, inverseRms, outputGrad, partials, shape);
        _weightGradSum(launch.GridStride(width), partials, dw, shape);
    }

    // With a residual, each lane stores its elements of the sum and later re-reads only those: no barrier needed.
    private static void ForwardKernel(ResidualViews views, ArrayView<float> weight, ArrayView<float> output, ArrayView<float> inverseRms, RowShape shape)
    {
        int w = shape.Width;
        var normalised = shape.HasResidual != 0 ? views.Sum : views.Input;
        for (long row = DeviceMath.GlobalWarp; row < shape.Rows; row += DeviceMath.GlobalWarps)
        {
            long start = row * w;
            float sumOfSquares = 0;
            for (int c = Warp.LaneIdx; c < w; c += Warp.WarpSize)
            {
                float x = views.Input[start + c];
                if (shape.HasResidual != 0)
                {
                    x += views.Residual[start + c];
                    views.Sum[start + c] = x;
                }
                sumOfSquares += x * x;
            }
            float inv = 1 / MathF.Sqrt(DeviceMath.WarpSum(sumOfSquares) / w + shape.Epsilon);
            for (int c = Warp.LaneIdx; c < w; c += Warp.WarpSize) output[start + c] = normalised[start + c] * inv * weight[c];
            if (shape.HasInverseRms != 0 && Warp.IsFirstLane) inverseRms[row] = inv;
        }
    }

    // y = x·r·w with r = (mean x² + ε)^-½:  dx += r·w·dy − x·r³/H·Σ(dy·w·x).
    private static void InputGradKernel(ArrayView<float> input, ArrayView<float> weight, ArrayView<float> inverseRms, ArrayView<float> outputGrad,
        ArrayView<float> inputGrad, RowShape shape)
    {
        int w = shape.Width;
        for (long row = DeviceMath.GlobalWarp; row < shape.Rows; row += DeviceMath.GlobalWarps)
        {
            long start = row * w;
            float dot = 0;
            for (int c = Warp.LaneIdx; c < w; c += Warp.WarpSize) dot += outputGrad[start + c] * weight[c] * input[start + c];
            float r = inverseRms[row];
            float projection = r * r * r * DeviceMath.WarpSum(dot) / w;
            for (int c = Warp.LaneIdx; c < w; c += Warp.WarpSize)
                inputGrad[start + c] += r * weight[c] * outputGrad[start + c] - input[start + c] * projection;
        }
    }

    // partials[chunk, c] = Σ over the chunk's rows of dy·x·r; one thread per column, rows read coalesced across the group.
    private static void WeightGradPartialsKernel(ArrayView<float> input, ArrayView<float> inverseRms, ArrayView<float> outputGrad,
        ArrayView<float> partials, RowShape shape)
    {
        int c = Grid.IdxX * Group.DimX + Group.IdxX;
        if (c >= shape.Width) return;
        long first = (long)Grid.IdxY * RowsPerChunk, end = Math.Min(first + RowsPerChunk, shape.Rows);
        float sum = 0;
        for (long row = first; row < end; row++) sum += outputGrad[row * shape.Width + c] * input[row * shape.Width + c] * inverseRms[row];
        partials[(long)Grid.IdxY * shape.Width + c] = sum;
    }

    private static void WeightGradSumKernel(ArrayView<float> partials, ArrayView<float> weightGrad, RowShape shape)
    {
        long chunks = (shape.Rows + RowsPerChunk - 1) / RowsPerChunk;
        for (long c = DeviceMath.GlobalThread; c < shape.Width; c += DeviceMath.GlobalThreads)
        {
            float sum = 0;
            for (long chunk = 0; chunk < chunks; chunk++) sum += partials[chunk * shape.Width + c];
            weightGrad[c] += sum;
        }
    }
}
