using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// The paths of <see cref="CudaPrecision.Bf16TensorCores"/>: the tensor-core GEMM and flash attention read each float32
/// operand's bf16 copy (<see cref="Bf16Copies"/>) and the GEMM writes float32 results (gradients accumulate in float32
/// as the contract says). The activations a product reads next (attention's output, a norm's, SwiGLU's) are written as
/// bf16 alone; a float32 reader widens them on demand.
/// </summary>
public sealed partial class CudaBackend
{
    /// <summary>
    /// Products with a side shorter than this (decode: a row per sequence) stay float32. They are bound by reading
    /// the large operand, and rounding it to bf16 first reads it once more and writes half of it again: about twice
    /// the traffic of the float32 kernel's one read (by the roofline the float32 kernel wins up to ~80 rows on an
    /// H100; 32 keeps small training products, such as the test models', on the tensor cores).
    /// </summary>
    private const int MinTensorCoreSide = 32;

    /// <summary>The tensor-core GEMM has the NT, NN and TN cases that the model and its backward use; TT stays float32.</summary>
    private bool ProductOnTensorCores(int m, int n, int k, bool transposeA, bool transposeB) =>
        Precision == CudaPrecision.Bf16TensorCores && !(transposeA && transposeB) && Math.Min(m, Math.Min(n, k)) >= MinTensorCoreSide;

    /// <summary>
    /// Where a norm or SwiGLU writes an activation that a product reads next: as bf16 alone on the bf16 path when that
    /// product runs on the tensor cores (the activation's rows are its m side), so no rounding launch and no float32
    /// memory; else as float32, as before a float32 product.
    /// </summary>
    private (ulong Address, KernelStorage Storage) ProductInput(Tensor output, long rows) =>
        Precision == CudaPrecision.Bf16TensorCores && rows >= MinTensorCoreSide
            ? (_bf16.WrittenAlone(output), KernelStorage.Bf16)
            : (Overwrite(output), KernelStorage.F32);

    /// <summary>
    /// A projection only flash attention reads (v) is written by the tensor-core GEMM as bf16 alone, the bits its copy
    /// would have held; any other is the float32-output product.
    /// </summary>
    protected override void AttentionProjectionCore(Tensor input, Tensor weight, Tensor output, int m, int n, int k, AttentionSpec spec,
        AttentionLayout layout)
    {
        if (AttentionOnTensorCores(spec, layout) && ProductOnTensorCores(m, n, k, transposeA: false, transposeB: true))
            _gemm.MatMulBf16(_bf16.Current(input), _bf16.Current(weight), _bf16.WrittenAlone(output), m, n, k, false, true, false, DType.BF16);
        else base.AttentionProjectionCore(input, weight, output, m, n, k, spec, layout);
    }

    /// <summary>q or k for flash attention: rotated in float32 from its float32 values and stored as bf16 alone, rounded once.</summary>
    protected override void RopeForAttentionCore(Tensor x, Tensor positions, int headDim, double theta, AttentionSpec spec, AttentionLayout layout)
    {
        if (!AttentionOnTensorCores(spec, layout))
        {
            base.RopeForAttentionCore(x, positions, headDim, theta, spec, layout);
            return;
        }
        ulong values = A(x), positionValues = A(positions);
        _rope.RotateToBf16(values, _bf16.WrittenAlone(x), positionValues, x.Shape.Rows, x.Shape.Columns, headDim, theta, inverse: false);
    }

    private void MatMulOnTensorCores(Tensor a, Tensor b, Tensor c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        _gemm.MatMulBf16(_bf16.Current(a), _bf16.Current(b), accumulate ? W(c) : Overwrite(c), m, n, k, transposeA, transposeB, accumulate, DType.F32);
    }

    /// <summary>
    /// Flash attention takes what the caller states are sequences (<see cref="AttentionLayout.Sequences"/>: one position
    /// tensor, every row consecutive and then, if padded, empty to its end, so position order is index order).
    /// </summary>
    private bool AttentionOnTensorCores(AttentionSpec spec, AttentionLayout layout) =>
        Precision == CudaPrecision.Bf16TensorCores && layout == AttentionLayout.Sequences && FlashAttentionKernels.Supports(spec);

    /// <summary>Each row's filled length, counted on the device from the positions of the sequences layout (no wait).</summary>
    private ulong RowLengths(Tensor positions, int batch, int length)
    {
        ulong lengths = _rowLengths.Get((long)batch * sizeof(int));
        _positions.RowLengths(A(positions), batch, length, lengths);
        return lengths;
    }

    private void AttentionOnTensorCores(Tensor q, Tensor k, Tensor v, Tensor positions, AttentionSpec spec, int batch, int length, Tensor output,
        Tensor? logSumExp)
    {
        ulong lengths = RowLengths(positions, batch, length);
        ulong query = _bf16.Current(q), key = _bf16.Current(k), value = _bf16.Current(v);
        ulong lse = logSumExp is null ? _attentionScratch.Get((long)batch * spec.QueryHeads * length * sizeof(float)) : W(logSumExp);
        _flash.Forward(query, key, value, _bf16.WrittenAlone(output), lse, batch, length, spec, lengths);
    }

    private void AttentionBackwardOnTensorCores(Tensor q, Tensor k, Tensor v, Tensor positions, AttentionSpec spec, int batch, int length,
        Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad)
    {
        ulong lengths = RowLengths(positions, batch, length);
        ulong scratch = _attentionScratch.Get(FlashAttentionKernels.BackwardScratchBytes(batch, length, spec));
        _flash.Backward(_bf16.Current(q), _bf16.Current(k), _bf16.Current(v), _bf16.Current(output), A(logSumExp), _bf16.Current(outputGrad),
            scratch, W(queryGrad), W(keyGrad), W(valueGrad), batch, length, spec, lengths, Deterministic);
    }
}
