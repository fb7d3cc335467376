using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>The backward ops, AdamW and the gradient norm: dispatch to the kernels; every gradient accumulates.</summary>
public sealed unsafe partial class CpuBackend
{
    protected override void ZeroCore(Tensor t) =>
        CpuElementwise.Zero(((HostStorage)t.Storage).Pointer<byte>(t.ElementOffset * t.DType.SizeInBytes()),
            t.ElementCount * t.DType.SizeInBytes(), _parallel);

    protected override void ScatterAddRowsCore(Tensor source, Tensor indices, Tensor destination) =>
        CpuScatterAdd.Rows(F(source), I(indices), F(destination), (int)indices.ElementCount, destination.Shape.Rows, source.Shape.Columns, _parallel);

    protected override void RmsNormBackwardCore(Tensor input, Tensor weight, Tensor inverseRms, Tensor outputGrad, Tensor inputGrad, Tensor? weightGrad) =>
        CpuRmsNorm.Backward(F(input), F(weight), F(inverseRms), F(outputGrad), F(inputGrad), weightGrad is null ? null : F(weightGrad),
            input.Shape.Rows, input.Shape.Columns, _parallel);

    protected override void AttentionBackwardCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad) =>
        CpuAttentionBackward.Backward(F(q), F(k), F(v), I(queryPositions), I(keyPositions), spec, batch, queryLength, keyLength,
            F(output), F(logSumExp), F(outputGrad), F(queryGrad), F(keyGrad), F(valueGrad), _parallel);

    protected override void SwiGluBackwardCore(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad) =>
        CpuElementwise.SwiGluBackward(F(gate), F(up), F(outputGrad), F(gateGrad), F(upGrad), gate.ElementCount, _parallel);

    protected override void TokenLogProbsCore(Tensor logits, Tensor targets, Tensor logProbs, Tensor logSumExp, Tensor? entropy) =>
        CpuLogProbs.Forward(F(logits), I(targets), F(logProbs), F(logSumExp), entropy is null ? null : F(entropy),
            logits.Shape.Rows, logits.Shape.Columns, _parallel);

    protected override void TokenLogProbsBackwardCore(Tensor logits, Tensor targets, Tensor logSumExp, Tensor logProbGrad,
        Tensor? entropy, Tensor? entropyGrad, Tensor logitsGrad) =>
        CpuLogProbs.Backward(F(logits), I(targets), F(logSumExp), F(logProbGrad), entropy is null ? null : F(entropy),
            entropyGrad is null ? null : F(entropyGrad), F(logitsGrad), logits.Shape.Rows, logits.Shape.Columns, _parallel);

    protected override void AdamWCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWStep step) =>
        CpuAdamW.Apply(F(parameter), F(gradient), F(firstMoment), F(secondMoment), parameter.ElementCount, step, _parallel);

    protected override double SumOfSquaresCore(Tensor t) => CpuSums.SumOfSquares(F(t), t.ElementCount, _parallel);
}
