using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>Each op of the contract, forward and backward, as one or two launches of its kernel family.</summary>
public sealed partial class CudaBackend
{
    protected override void GatherRowsCore(Tensor source, Tensor indices, Tensor destination) =>
        _rows.Gather(A(source), source.Shape.Rows, A(indices), W(destination), indices.ElementCount, source.Shape.Columns);

    protected override void ScatterRowsCore(Tensor source, Tensor indices, Tensor destination) =>
        _rows.Scatter(A(source), A(indices), indices.ElementCount, W(destination), destination.Shape.Rows, source.Shape.Columns);

    protected override void RmsNormCore(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms)
    {
        ulong x = A(input), w = A(weight);
        var (y, storage) = ProductInput(output, input.Shape.Rows);
        _rmsNorm.Forward(x, w, y, OptionalW(inverseRms), input.Shape.Rows, input.Shape.Columns, epsilon, outputStorage: storage);
    }

    protected override void AddRmsNormCore(Tensor a, Tensor b, Tensor weight, float epsilon, Tensor sum, Tensor output, Tensor? inverseRms)
    {
        ulong x = A(a), residual = A(b), total = W(sum), w = A(weight);
        var (y, storage) = ProductInput(output, a.Shape.Rows);
        _rmsNorm.ResidualForward(x, residual, total, w, y, OptionalW(inverseRms), a.Shape.Rows, a.Shape.Columns, epsilon, outputStorage: storage);
    }

    protected override void MatMulCore(Tensor a, Tensor b, Tensor c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        if (ProductOnTensorCores(m, n, k, transposeA, transposeB)) MatMulOnTensorCores(a, b, c, m, n, k, transposeA, transposeB, accumulate);
        else _gemm.MatMul(A(a), A(b), accumulate ? W(c) : Overwrite(c), m, n, k, transposeA, transposeB, accumulate);
    }

    protected override void RopeCore(Tensor x, Tensor positions, int headDim, double theta, bool inverse) =>
        _rope.Rotate(W(x), A(positions), x.Shape.Rows, x.Shape.Columns, headDim, theta, inverse);

    protected override void AttentionCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor? logSumExp)
    {
        if (AttentionOnTensorCores(spec, layout))
            AttentionOnTensorCores(q, k, v, queryPositions, spec, batch, queryLength, output, logSumExp);
        else
            _attention.Forward(Operands(q, k, v, queryPositions, keyPositions, batch, queryLength, keyLength), spec, W(output), OptionalW(logSumExp));
    }

    protected override void SwiGluCore(Tensor gate, Tensor up, Tensor output)
    {
        ulong g = A(gate), u = A(up);
        var (y, storage) = ProductInput(output, gate.Shape.Rows);
        _elementwise.SwiGlu(g, u, y, gate.ElementCount, outputStorage: storage);
    }

    protected override void AddCore(Tensor a, Tensor b, Tensor output) => _elementwise.Add(A(a), A(b), W(output), a.ElementCount);

    protected override void ZeroCore(Tensor t)
    {
        long bytes = t.ElementCount * t.DType.SizeInBytes();
        if (bytes % sizeof(uint) != 0)
            throw new NotSupportedException($"{nameof(Zero)}: a {t.DType} tensor of {t.ElementCount} elements is not whole 32-bit words");
        if (bytes > 0) _device.Fill32(W(t), 0, bytes / sizeof(uint));
    }

    protected override void ScatterAddRowsCore(Tensor source, Tensor indices, Tensor destination) =>
        _rows.ScatterAdd(A(source), A(indices), indices.ElementCount, W(destination), destination.Shape.Rows, source.Shape.Columns);

    protected override void RmsNormBackwardCore(Tensor input, Tensor weight, Tensor inverseRms, Tensor outputGrad, Tensor inputGrad, Tensor? weightGrad) =>
        _rmsNorm.Backward(A(input), A(weight), A(inverseRms), A(outputGrad), W(inputGrad), OptionalW(weightGrad), input.Shape.Rows, input.Shape.Columns);

    protected override void AttentionBackwardCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad)
    {
        if (AttentionOnTensorCores(spec, layout))
            AttentionBackwardOnTensorCores(q, k, v, queryPositions, spec, batch, queryLength, output, logSumExp, outputGrad, queryGrad, keyGrad, valueGrad);
        else
            _attention.Backward(Operands(q, k, v, queryPositions, keyPositions, batch, queryLength, keyLength), spec, A(output), A(logSumExp),
                A(outputGrad), W(queryGrad), W(keyGrad), W(valueGrad));
    }

    protected override void SwiGluBackwardCore(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad) =>
        _elementwise.SwiGluBackward(A(gate), A(up), A(outputGrad), W(gateGrad), W(upGrad), gate.ElementCount);

    protected override void TokenLogProbsCore(Tensor logits, Tensor targets, Tensor logProbs, Tensor logSumExp, Tensor? entropy) =>
        _logProbs.Forward(A(logits), A(targets), W(logProbs), W(logSumExp), OptionalW(entropy), logits.Shape.Rows, logits.Shape.Columns);

    protected override void TokenLogProbsBackwardCore(Tensor logits, Tensor targets, Tensor logSumExp, Tensor logProbGrad,
        Tensor? entropy, Tensor? entropyGrad, Tensor logitsGrad) =>
        _logProbs.Backward(A(logits), A(targets), A(logSumExp), A(logProbGrad), Optional(entropy), Optional(entropyGrad), W(logitsGrad),
            logits.Shape.Rows, logits.Shape.Columns);

    protected override void AdamWCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWStep step) =>
        _adamW.Step(W(parameter), A(gradient), W(firstMoment), W(secondMoment), parameter.ElementCount, step);

    protected override void AdamWCore(IReadOnlyList<AdamWParameter> parameters, AdamWStep step) => _multiTensorAdamW.Step(parameters, step);

    protected override void AdamWCore(IReadOnlyList<AdamWParameter> parameters, AdamWStep step, AdamWGuard guard) =>
        _multiTensorAdamW.Step(parameters, step, new AdamWDeviceGuard(A(guard.Loss), A(guard.GradientNorm), guard.MaxGradientNorm));

    protected override double SumOfSquaresCore(Tensor t) => SumOfSquaresCore([t]);

    protected override double SumOfSquaresCore(IReadOnlyList<Tensor> tensors)
    {
        ulong total = _reductionResult.Get(sizeof(double));
        _reduction.SumOfSquares(Ranges(tensors), total);
        var sum = new double[1];
        _faults.Download<double>(total, sum);
        return sum[0];
    }

    protected override void GlobalNormCore(IReadOnlyList<Tensor> tensors, Tensor norm) => _reduction.Norm(Ranges(tensors), W(norm));

    protected override void AccumulateSumCore(Tensor values, double scale, Tensor total) =>
        _reduction.AccumulateSum(A(values), values.ElementCount, scale, W(total));

    protected override void BradleyTerryCore(Tensor scores, Tensor margins, double centering, double gradientPairs, Tensor scoreGradient, Tensor lossSum,
        Tensor statistics) =>
        _bradleyTerry.Loss(A(scores), A(margins), margins.ElementCount, centering, gradientPairs, W(scoreGradient), W(lossSum), W(statistics));

    protected override void PpoPolicyLossCore(Tensor logProbs, Tensor entropy, Tensor oldLogProbs, Tensor advantages, Tensor targets, PpoLossSettings settings,
        Tensor logProbGradient, Tensor entropyGradient, Tensor lossSum, Tensor statistics) =>
        _ppoLosses.Policy(A(logProbs), A(entropy), A(oldLogProbs), A(advantages), A(targets), targets.ElementCount, settings.Clip, settings.Coefficient,
            settings.Tokens, W(logProbGradient), W(entropyGradient), W(lossSum), W(statistics));

    protected override void PpoValueLossCore(Tensor values, Tensor oldValues, Tensor returns, Tensor targets, PpoLossSettings settings, Tensor valueGradient,
        Tensor lossSum, Tensor statistics) =>
        _ppoLosses.Value(A(values), A(oldValues), A(returns), A(targets), targets.ElementCount, settings.Clip, settings.Coefficient, settings.Tokens,
            W(valueGradient), W(lossSum), W(statistics));

    protected override void FillCore(Tensor t, double value) => _device.Fill32(Overwrite(t), BitConverter.SingleToUInt32Bits((float)value), t.ElementCount);

    private List<(ulong Address, long Count)> Ranges(IReadOnlyList<Tensor> tensors) => tensors.Select(t => (A(t), t.ElementCount)).ToList();

    private AttentionOperands Operands(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions,
        int batch, int queryLength, int keyLength) =>
        new(A(q), A(k), A(v), A(queryPositions), A(keyPositions), batch, queryLength, keyLength);
}
