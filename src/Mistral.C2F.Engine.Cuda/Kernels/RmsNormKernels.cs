namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// RMSNorm forward (also fused with the residual add before it) and backward (kernels/rmsnorm.cu): a block per
/// row, 16-byte vectors where the rows allow. The weight gradient is deterministic: each backward block sums its
/// rows into one row of partials (scratch), and a second kernel adds the partials per column in block order.
/// </summary>
public sealed class RmsNormKernels(IKernelDevice device) : IDisposable
{
    private const int MaxThreads = 256;

    /// <summary>
    /// Backward blocks when the weight gradient is wanted: 4 per SM of an H100, so the partials stay small
    /// (blocks × width floats) while the row pass still fills the device.
    /// </summary>
    private const int WeightGradBlocks = 528;

    private readonly KernelScratch _partials = new(device);

    /// <summary>
    /// y = x / rms(x) · weight per row of x [rows, width], rms = √(mean x² + ε); writes 1/rms per row into
    /// <paramref name="inverseRms"/> (float32, [rows]) unless it is 0. Weight is [width], of the same storage; y is
    /// stored as <paramref name="outputStorage"/> (by default the same: float32 inputs may write bf16 for a bf16 product).
    /// </summary>
    public void Forward(ulong input, ulong weight, ulong output, ulong inverseRms, long rows, int width, float epsilon,
        KernelStorage storage = KernelStorage.F32, KernelStorage? outputStorage = null)
    {
        if (rows == 0) return;
        device.Launch($"c2f_rmsnorm_forward_{storage.Suffix(outputStorage ?? storage)}", RowShape(rows, width, storage),
            KernelArg.Pointer(input), KernelArg.Pointer(weight), KernelArg.Pointer(output), KernelArg.Pointer(inverseRms),
            MemoryBoundLaunch.Int(rows, nameof(rows)), width, epsilon);
    }

    /// <summary>
    /// The residual add fused with the norm after it: sum = x + residual (the residual stream; <paramref name="sum"/>
    /// may be <paramref name="input"/>, updating it in place), then y = rmsnorm(sum) as <see cref="Forward"/>; with
    /// bf16 storage y normalises the stored (rounded) sum. y is stored as <paramref name="outputStorage"/> (as in <see cref="Forward"/>).
    /// </summary>
    public void ResidualForward(ulong input, ulong residual, ulong sum, ulong weight, ulong output, ulong inverseRms, long rows, int width,
        float epsilon, KernelStorage storage = KernelStorage.F32, KernelStorage? outputStorage = null)
    {
        if (rows == 0) return;
        device.Launch($"c2f_rmsnorm_residual_forward_{storage.Suffix(outputStorage ?? storage)}", RowShape(rows, width, storage),
            KernelArg.Pointer(input), KernelArg.Pointer(residual), KernelArg.Pointer(sum), KernelArg.Pointer(weight),
            KernelArg.Pointer(output), KernelArg.Pointer(inverseRms), MemoryBoundLaunch.Int(rows, nameof(rows)), width, epsilon);
    }

    /// <summary>
    /// Backward from the saved 1/rms (float32): accumulates dx += r·w·dy − x·r³/width·Σ(dy·w·x) (same storage as x)
    /// and, unless <paramref name="weightGrad"/> is 0 (a frozen weight), dweight += Σ_rows dy·x·r (float32, [width]).
    /// </summary>
    public void Backward(ulong input, ulong weight, ulong inverseRms, ulong outputGrad, ulong inputGrad, ulong weightGrad,
        long rows, int width, KernelStorage storage = KernelStorage.F32)
    {
        if (rows == 0 || width == 0) return;
        int rowCount = MemoryBoundLaunch.Int(rows, nameof(rows));
        string kernel = $"c2f_rmsnorm_backward_{storage.Suffix()}";
        if (weightGrad == 0)
        {
            device.Launch(kernel, RowShape(rows, width, storage), KernelArg.Pointer(input), KernelArg.Pointer(weight),
                KernelArg.Pointer(inverseRms), KernelArg.Pointer(outputGrad), KernelArg.Pointer(inputGrad), KernelArg.Pointer(0),
                rowCount, width);
            return;
        }
        int blocks = (int)Math.Min(rows, WeightGradBlocks);
        ulong partials = _partials.Get((long)blocks * width * sizeof(float));
        var shape = MemoryBoundLaunch.RowBlocks(blocks, width, storage.VectorWidth(), MaxThreads, checked(width * sizeof(float)));
        device.Launch(kernel, shape, KernelArg.Pointer(input), KernelArg.Pointer(weight), KernelArg.Pointer(inverseRms),
            KernelArg.Pointer(outputGrad), KernelArg.Pointer(inputGrad), KernelArg.Pointer(partials), rowCount, width);
        device.Launch("c2f_rmsnorm_weight_grad_sum_f32", MemoryBoundLaunch.Flat(width, 1),
            KernelArg.Pointer(partials), blocks, KernelArg.Pointer(weightGrad), width);
    }

    private static LaunchShape RowShape(long rows, int width, KernelStorage storage) =>
        MemoryBoundLaunch.RowBlocks(rows, width, storage.VectorWidth(), MaxThreads);

    public void Dispose() => _partials.Dispose();
}
