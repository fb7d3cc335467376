using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Ilgpu.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>The backward ops, AdamW and the gradient norm: dispatch to the kernels; every gradient accumulates.</summary>
public sealed partial class IlgpuBackend
{
    protected override void ZeroCore(Tensor t)
    {
        if (t.ElementCount == 0) return;
        IlgpuStorage.Bytes(t).MemSetToZero();
        _counter.Launched();
    }

    protected override void ScatterAddRowsCore(Tensor source, Tensor indices, Tensor destination) =>
        Rows.ScatterAdd(F(source), I(indices), F(destination), source.Shape.Columns);

    protected override void RmsNormBackwardCore(Tensor input, Tensor weight, Tensor inverseRms, Tensor outputGrad, Tensor inputGrad, Tensor? weightGrad) =>
        RmsNormKernels.Backward(F(input), F(weight), F(inverseRms), F(outputGrad), F(inputGrad), Optional(weightGrad), input.Shape.Rows, input.Shape.Columns);

    protected override void AttentionBackwardCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad) =>
        AttentionBackwardKernels.Backward(Inputs(q, k, v, queryPositions, keyPositions), F(output), F(logSumExp), F(outputGrad),
            F(queryGrad), F(keyGrad), F(valueGrad), AttentionGeometry.From(spec, batch, queryLength, keyLength));

    protected override void SwiGluBackwardCore(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad) =>
        Elementwise.SwiGluBackward(F(gate), F(up), F(outputGrad), F(gateGrad), F(upGrad));

    protected override void TokenLogProbsCore(Tensor logits, Tensor targets, Tensor logProbs, Tensor logSumExp, Tensor? entropy) =>
        LogProbs.Forward(F(logits), I(targets), F(logProbs), F(logSumExp), Optional(entropy), logits.Shape.Columns);

    protected override void TokenLogProbsBackwardCore(Tensor logits, Tensor targets, Tensor logSumExp, Tensor logProbGrad,
        Tensor? entropy, Tensor? entropyGrad, Tensor logitsGrad) =>
        LogProbs.Backward(F(logits), I(targets), F(logSumExp), F(logProbGrad), Optional(entropy), Optional(entropyGrad), F(logitsGrad), logits.Shape.Columns);

    protected override void AdamWCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWStep step) =>
        AdamWKernels.Apply(F(parameter), F(gradient), F(firstMoment), F(secondMoment), step);

    protected override double SumOfSquaresCore(Tensor t) => SumOfSquaresCore([t]);

    protected override double SumOfSquaresCore(IReadOnlyList<Tensor> tensors)
    {
        double sum = Reduction.SumOfSquares(tensors.Select(F).ToList());
        _faults.ThrowIfAny();
        return sum;
    }

    protected override void GlobalNormCore(IReadOnlyList<Tensor> tensors, Tensor norm) => Reduction.Norm(tensors.Select(F).ToList(), F(norm));

    protected override void AccumulateSumCore(Tensor values, double scale, Tensor total) => Reduction.AccumulateSum(F(values), scale, F(total));

    protected override void AdamWCore(IReadOnlyList<AdamWParameter> parameters, AdamWStep step, AdamWGuard guard)
    {
        foreach (var p in parameters)
            AdamWKernels.Apply(F(p.Parameter), F(p.Gradient), F(p.FirstMoment), F(p.SecondMoment), p.Decays ? step : step with { WeightDecay = 0 },
                (F(guard.Loss), F(guard.GradientNorm), guard.MaxGradientNorm));
    }

    protected override void BradleyTerryCore(Tensor scores, Tensor margins, double centering, double gradientPairs, Tensor scoreGradient, Tensor lossSum,
        Tensor statistics) =>
        Losses.BradleyTerry(F(scores), F(margins), centering, gradientPairs, F(scoreGradient), F(lossSum), F(statistics));

    protected override void PpoPolicyLossCore(Tensor logProbs, Tensor entropy, Tensor oldLogProbs, Tensor advantages, Tensor targets, PpoLossSettings settings,
        Tensor logProbGradient, Tensor entropyGradient, Tensor lossSum, Tensor statistics) =>
        Losses.Policy(new(F(logProbs), F(entropy), F(oldLogProbs), F(advantages), I(targets)), settings, F(logProbGradient), F(entropyGradient), F(lossSum),
            F(statistics));

    protected override void PpoValueLossCore(Tensor values, Tensor oldValues, Tensor returns, Tensor targets, PpoLossSettings settings, Tensor valueGradient,
        Tensor lossSum, Tensor statistics) =>
        Losses.Value(new(F(values), F(oldValues), F(returns), I(targets)), settings, F(valueGradient), F(lossSum), F(statistics));
}
