using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Ilgpu.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>The forward ops: dispatch to the kernels.</summary>
public sealed partial class IlgpuBackend
{
    protected override void GatherRowsCore(Tensor source, Tensor indices, Tensor destination) =>
        Rows.Gather(F(source), I(indices), F(destination), source.Shape.Columns);

    protected override void ScatterRowsCore(Tensor source, Tensor indices, Tensor destination) =>
        Rows.Scatter(F(source), I(indices), F(destination), source.Shape.Columns);

    protected override void RmsNormCore(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms) =>
        RmsNormKernels.Forward(F(input), F(weight), F(output), Optional(inverseRms), input.Shape.Rows, input.Shape.Columns, epsilon);

    protected override void AddRmsNormCore(Tensor a, Tensor b, Tensor weight, float epsilon, Tensor sum, Tensor output, Tensor? inverseRms) =>
        RmsNormKernels.ResidualForward(F(a), F(b), F(sum), F(weight), F(output), Optional(inverseRms), a.Shape.Rows, a.Shape.Columns, epsilon);

    protected override void MatMulCore(Tensor a, Tensor b, Tensor c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate) =>
        Gemm.Multiply(F(a), F(b), F(c), m, n, k, transposeA, transposeB, accumulate);

    protected override void RopeCore(Tensor x, Tensor positions, int headDim, double theta, bool inverse) =>
        RopeKernels.Rotate(F(x), I(positions), x.Shape.Rows, x.Shape.Columns, headDim, theta, inverse);

    protected override void AttentionCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor? logSumExp) =>
        AttentionKernels.Forward(Inputs(q, k, v, queryPositions, keyPositions), F(output), Optional(logSumExp),
            AttentionGeometry.From(spec, batch, queryLength, keyLength));

    protected override void SwiGluCore(Tensor gate, Tensor up, Tensor output) => Elementwise.SwiGlu(F(gate), F(up), F(output));

    protected override void AddCore(Tensor a, Tensor b, Tensor output) => Elementwise.Add(F(a), F(b), F(output));

    private static AttentionInputs Inputs(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions) =>
        new(F(q), F(k), F(v), I(queryPositions), I(keyPositions));
}
