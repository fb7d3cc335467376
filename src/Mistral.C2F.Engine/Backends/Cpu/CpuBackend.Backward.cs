using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

// Placeholder until the float32 backward kernels land (same change set); every op here is implemented before release.
public sealed unsafe partial class CpuBackend
{
    protected override void ZeroCore(Tensor t) => throw new NotImplementedException();
    protected override void ScatterAddRowsCore(Tensor source, Tensor indices, Tensor destination) => throw new NotImplementedException();
    protected override void RmsNormBackwardCore(Tensor input, Tensor weight, Tensor inverseRms, Tensor outputGrad, Tensor inputGrad, Tensor weightGrad) => throw new NotImplementedException();
    protected override void AttentionBackwardCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec,
        int batch, int queryLength, int keyLength, Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad) => throw new NotImplementedException();
    protected override void SwiGluBackwardCore(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad) => throw new NotImplementedException();
    protected override void TokenLogProbsCore(Tensor logits, Tensor targets, Tensor logProbs, Tensor logSumExp, Tensor? entropy) => throw new NotImplementedException();
    protected override void TokenLogProbsBackwardCore(Tensor logits, Tensor targets, Tensor logSumExp, Tensor logProbGrad,
        Tensor? entropy, Tensor? entropyGrad, Tensor logitsGrad) => throw new NotImplementedException();
    protected override void AdamWCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWStep step) => throw new NotImplementedException();
    protected override double SumOfSquaresCore(Tensor t) => throw new NotImplementedException();
}
