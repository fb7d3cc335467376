using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops.Contract;

/// <summary>
/// The op contract's rule for non-finite values: every op computes its definition in IEEE arithmetic over the elements
/// the definition reads, so a NaN in one of them makes every output that depends on it non-finite, and elements it
/// does not read (keys a query cannot see, masked targets) change nothing. Each check plants one NaN at a random
/// element of one input and requires the tested backend's outputs to be non-finite exactly where the float64
/// reference's are. NaN and ±infinity are not told apart: summation order decides which an overflow gives.
/// Sizes are small and ragged, for backends of GPU-style kernels emulated on a CPU as well. The backend is the
/// caller's (a shared device fixture, say) and is not disposed here.
/// </summary>
public abstract class NonFiniteOpTests(Func<Backend> backend)
{
    private readonly Random _random = new();
    private BackendPair? _pair;

    private BackendPair Pair => _pair ??= new BackendPair(backend());

    /// <summary>Random values with one NaN at a random element.</summary>
    private (Tensor Tested, Tensor Reference) Planted(float scale, params int[] dims)
    {
        var values = Numerics.RandomFloats(_random, new Shape(dims).ElementCount, scale);
        values[_random.Next(values.Length)] = float.NaN;
        return Pair.Input(values, dims);
    }

    private (Tensor Tested, Tensor Reference) Random(float scale, params int[] dims) =>
        Pair.Input(Numerics.RandomFloats(_random, new Shape(dims).ElementCount, scale), dims);

    private (Tensor Tested, Tensor Reference) Maybe(bool plant, float scale, params int[] dims) => plant ? Planted(scale, dims) : Random(scale, dims);

    private void AssertSameNonFinite((Tensor Tested, Tensor Reference) pairOfOutputs, string what) =>
        Numerics.AssertSameNonFinite(Pair.Tested.ToFloats(pairOfOutputs.Tested), Pair.Reference.ToDoubles(pairOfOutputs.Reference), what);

    /// <param name="input">0: NaN in a; 1: in b; 2: in the accumulated output.</param>
    [Theory]
    [InlineData(7, 13, 5, false, true, 0)]
    [InlineData(33, 17, 65, true, false, 1)]
    [InlineData(65, 70, 31, false, false, 2)]
    public void MatMul_propagates_nan(int m, int n, int k, bool transposeA, bool transposeB, int input)
    {
        var a = Maybe(input == 0, 1f, transposeA ? [k, m] : [m, k]);
        var b = Maybe(input == 1, 1f, transposeB ? [n, k] : [k, n]);
        var c = input == 2 ? Planted(1f, m, n) : Pair.Output(m, n);
        Pair.Tested.MatMul(a.Tested, b.Tested, c.Tested, transposeA, transposeB, accumulate: input == 2);
        Pair.Reference.MatMul(a.Reference, b.Reference, c.Reference, transposeA, transposeB, accumulate: input == 2);
        AssertSameNonFinite(c, $"matmul {m}x{n}x{k} tA={transposeA} tB={transposeB}, NaN in input {input}");
    }

    /// <param name="inWeight">NaN in the weight (a column of every row) instead of the input (one row).</param>
    [Theory]
    [InlineData(5, 67, false)]
    [InlineData(33, 130, true)]
    public void RmsNorm_and_AddRmsNorm_propagate_nan(int rows, int width, bool inWeight)
    {
        var x = Maybe(!inWeight, 3f, rows, width);
        var w = Maybe(inWeight, 1f, width);
        var (y, inv) = (Pair.Output(rows, width), Pair.Output(rows));
        Pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, y.Tested, inv.Tested);
        Pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, y.Reference, inv.Reference);
        AssertSameNonFinite(y, "rmsnorm output");
        AssertSameNonFinite(inv, "rmsnorm inverse rms");

        var residual = Random(2f, rows, width);
        var (sum, y2, inv2) = (Pair.Output(rows, width), Pair.Output(rows, width), Pair.Output(rows));
        Pair.Tested.AddRmsNorm(residual.Tested, x.Tested, w.Tested, 1e-5f, sum.Tested, y2.Tested, inv2.Tested);
        Pair.Reference.AddRmsNorm(residual.Reference, x.Reference, w.Reference, 1e-5f, sum.Reference, y2.Reference, inv2.Reference);
        AssertSameNonFinite(sum, "add-rmsnorm sum");
        AssertSameNonFinite(y2, "add-rmsnorm output");
        AssertSameNonFinite(inv2, "add-rmsnorm inverse rms");
    }

    [Theory]
    [InlineData(7, 3, 18)]
    [InlineData(5, 2, 64)]
    public void Rope_SwiGlu_Add_and_GatherRows_propagate_nan(int rows, int heads, int headDim)
    {
        int width = heads * headDim;
        var x = Planted(1f, rows, width);
        var positions = Pair.Ints(Enumerable.Range(0, rows).Select(_ => _random.Next(0, 5000)).ToArray(), rows);
        Pair.Tested.Rope(x.Tested, positions.Tested, headDim, 10000.0);
        Pair.Reference.Rope(x.Reference, positions.Reference, headDim, 10000.0);
        AssertSameNonFinite(x, "rope");

        var (gate, up) = (Planted(6f, rows, width), Planted(1f, rows, width));
        var output = Pair.Output(rows, width);
        Pair.Tested.SwiGlu(gate.Tested, up.Tested, output.Tested);
        Pair.Reference.SwiGlu(gate.Reference, up.Reference, output.Reference);
        AssertSameNonFinite(output, "swiglu");
        Pair.Tested.Add(gate.Tested, up.Tested, output.Tested);
        Pair.Reference.Add(gate.Reference, up.Reference, output.Reference);
        AssertSameNonFinite(output, "add");

        var indices = Pair.Ints(Enumerable.Range(0, rows + 3).Select(i => i % 4 == 3 ? -1 : _random.Next(rows)).ToArray(), rows + 3);
        var gathered = Pair.Output(rows + 3, width);
        Pair.Tested.GatherRows(gate.Tested, indices.Tested, gathered.Tested);
        Pair.Reference.GatherRows(gate.Reference, indices.Reference, gathered.Reference);
        AssertSameNonFinite(gathered, "gather rows");
    }

    /// <summary>
    /// A NaN in one element of q, k or v: the outputs of the queries that see it turn non-finite, and no other — keys
    /// outside the window and the empty slots of right-padded rows are not read.
    /// </summary>
    /// <param name="input">0: NaN in q; 1: in k; 2: in v.</param>
    [Theory]
    [InlineData(2, 13, 4, 2, 8, 5, 0)]
    [InlineData(3, 19, 4, 2, 16, 6, 1)]
    [InlineData(3, 19, 4, 1, 8, null, 2)]
    [InlineData(2, 70, 2, 2, 64, 40, 1)]
    public void Attention_propagates_nan_only_to_the_queries_that_see_it(int batch, int length, int queryHeads, int kvHeads, int headDim,
        int? window, int input)
    {
        var spec = new AttentionSpec(queryHeads, kvHeads, headDim, window);
        int queryWidth = queryHeads * headDim, kvWidth = kvHeads * headDim;
        var q = Maybe(input == 0, 2f, batch, length, queryWidth);
        var k = Maybe(input == 1, 2f, batch, length, kvWidth);
        var v = Maybe(input == 2, 1f, batch, length, kvWidth);
        // Row b is right-padded by b slots: its last b positions are empty (-1).
        var positions = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(0, length).Select(s => s < length - b ? s : -1)).ToArray();
        var qPos = Pair.Ints(positions, batch, length);
        var (output, lse) = (Pair.Output(batch, length, queryWidth), Pair.Output(batch, queryHeads, length));
        Pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, qPos.Tested, spec, output.Tested, lse.Tested);
        Pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, qPos.Reference, spec, output.Reference, lse.Reference);
        string what = $"attention B={batch} S={length} H={queryHeads}/{kvHeads} D={headDim} W={window}, NaN in {"qkv"[input]}";
        AssertSameNonFinite(output, $"{what}: output");
        AssertSameNonFinite(lse, $"{what}: log-sum-exp");

        var dOut = Random(1f, batch, length, queryWidth);
        var (dq, dk, dv) = (Random(1f, batch, length, queryWidth), Random(1f, batch, length, kvWidth), Random(1f, batch, length, kvWidth));
        Pair.Tested.AttentionBackward(q.Tested, k.Tested, v.Tested, qPos.Tested, qPos.Tested, spec, output.Tested, lse.Tested,
            dOut.Tested, dq.Tested, dk.Tested, dv.Tested);
        Pair.Reference.AttentionBackward(q.Reference, k.Reference, v.Reference, qPos.Reference, qPos.Reference, spec, output.Reference,
            lse.Reference, dOut.Reference, dq.Reference, dk.Reference, dv.Reference);
        AssertSameNonFinite(dq, $"{what}: dq");
        AssertSameNonFinite(dk, $"{what}: dk");
        AssertSameNonFinite(dv, $"{what}: dv");
    }

    /// <summary>A NaN in the output gradient of attention reaches dq of its query and dk, dv of every key that query sees.</summary>
    [Theory]
    [InlineData(2, 13, 4, 2, 8, 5)]
    [InlineData(1, 70, 2, 1, 64, null)]
    public void AttentionBackward_propagates_nan_from_the_output_gradient(int batch, int length, int queryHeads, int kvHeads, int headDim, int? window)
    {
        var spec = new AttentionSpec(queryHeads, kvHeads, headDim, window);
        int queryWidth = queryHeads * headDim, kvWidth = kvHeads * headDim;
        var (q, k, v) = (Random(2f, batch, length, queryWidth), Random(2f, batch, length, kvWidth), Random(1f, batch, length, kvWidth));
        var qPos = Pair.Ints(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(0, length)).ToArray(), batch, length);
        var (output, lse) = (Pair.Output(batch, length, queryWidth), Pair.Output(batch, queryHeads, length));
        Pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, qPos.Tested, spec, output.Tested, lse.Tested);
        Pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, qPos.Reference, spec, output.Reference, lse.Reference);
        var dOut = Planted(1f, batch, length, queryWidth);
        var (dq, dk, dv) = (Random(1f, batch, length, queryWidth), Random(1f, batch, length, kvWidth), Random(1f, batch, length, kvWidth));
        Pair.Tested.AttentionBackward(q.Tested, k.Tested, v.Tested, qPos.Tested, qPos.Tested, spec, output.Tested, lse.Tested,
            dOut.Tested, dq.Tested, dk.Tested, dv.Tested);
        Pair.Reference.AttentionBackward(q.Reference, k.Reference, v.Reference, qPos.Reference, qPos.Reference, spec, output.Reference,
            lse.Reference, dOut.Reference, dq.Reference, dk.Reference, dv.Reference);
        string what = $"attention backward B={batch} S={length} H={queryHeads}/{kvHeads} D={headDim} W={window}, NaN in dO";
        AssertSameNonFinite(dq, $"{what}: dq");
        AssertSameNonFinite(dk, $"{what}: dk");
        AssertSameNonFinite(dv, $"{what}: dv");
    }

    /// <summary>
    /// A NaN logit poisons its row's log-sum-exp, log-prob, entropy and logit gradients; masked rows stay as the reference has
    /// them. A second NaN sits in row 1, always masked, which only the entropy term reads.
    /// </summary>
    [Theory]
    [InlineData(7, 61)]
    [InlineData(5, 1031)]
    public void TokenLogProbs_propagate_nan(int rows, int vocab)
    {
        var values = Numerics.RandomFloats(_random, (long)rows * vocab, 4f);
        values[_random.Next(values.Length)] = values[vocab + _random.Next(vocab)] = float.NaN;
        var logits = Pair.Input(values, rows, vocab);
        var targets = Pair.Ints(Enumerable.Range(0, rows).Select(i => i % 3 == 1 ? -1 : _random.Next(vocab)).ToArray(), rows);
        var (logProbs, lse, entropy) = (Pair.Output(rows), Pair.Output(rows), Pair.Output(rows));
        Pair.Tested.TokenLogProbs(logits.Tested, targets.Tested, logProbs.Tested, lse.Tested, entropy.Tested);
        Pair.Reference.TokenLogProbs(logits.Reference, targets.Reference, logProbs.Reference, lse.Reference, entropy.Reference);
        AssertSameNonFinite(logProbs, "log-probs");
        AssertSameNonFinite(lse, "log-sum-exp");
        AssertSameNonFinite(entropy, "entropy");

        var (logProbGrad, entropyGrad, logitsGrad) = (Random(1f, rows), Random(1f, rows), Random(1e-3f, rows, vocab));
        Pair.Tested.TokenLogProbsBackward(logits.Tested, targets.Tested, lse.Tested, logProbGrad.Tested, entropy.Tested, entropyGrad.Tested, logitsGrad.Tested);
        Pair.Reference.TokenLogProbsBackward(logits.Reference, targets.Reference, lse.Reference, logProbGrad.Reference, entropy.Reference,
            entropyGrad.Reference, logitsGrad.Reference);
        AssertSameNonFinite(logitsGrad, "d logits");

        // Without an entropy term a masked row is read by nothing: its NaN must not reach its gradient.
        var logitsGradOnly = Random(1e-3f, rows, vocab);
        Pair.Tested.TokenLogProbsBackward(logits.Tested, targets.Tested, lse.Tested, logProbGrad.Tested, null, null, logitsGradOnly.Tested);
        Pair.Reference.TokenLogProbsBackward(logits.Reference, targets.Reference, lse.Reference, logProbGrad.Reference, null, null, logitsGradOnly.Reference);
        AssertSameNonFinite(logitsGradOnly, "d logits without entropy");
    }

    /// <param name="inGradient">NaN in the output gradient instead of the forward input.</param>
    [Theory]
    [InlineData(9, 67, false)]
    [InlineData(9, 67, true)]
    public void RmsNormBackward_SwiGluBackward_and_ScatterAddRows_propagate_nan(int rows, int width, bool inGradient)
    {
        var x = Maybe(!inGradient, 3f, rows, width);
        var w = Random(1f, width);
        var inv = Pair.Output(rows);
        Pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, Pair.Tested.Allocate(rows, width), inv.Tested);
        Pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, Pair.Reference.Allocate(rows, width), inv.Reference);
        var dy = Maybe(inGradient, 1f, rows, width);
        var (dx, dw) = (Random(1f, rows, width), Random(1f, width));
        Pair.Tested.RmsNormBackward(x.Tested, w.Tested, inv.Tested, dy.Tested, dx.Tested, dw.Tested);
        Pair.Reference.RmsNormBackward(x.Reference, w.Reference, inv.Reference, dy.Reference, dx.Reference, dw.Reference);
        AssertSameNonFinite(dx, "rmsnorm d input");
        AssertSameNonFinite(dw, "rmsnorm d weight");

        var up = Random(1f, rows, width);
        var (dGate, dUp) = (Random(1f, rows, width), Random(1f, rows, width));
        Pair.Tested.SwiGluBackward(x.Tested, up.Tested, dy.Tested, dGate.Tested, dUp.Tested);
        Pair.Reference.SwiGluBackward(x.Reference, up.Reference, dy.Reference, dGate.Reference, dUp.Reference);
        AssertSameNonFinite(dGate, "swiglu d gate");
        AssertSameNonFinite(dUp, "swiglu d up");

        var indices = Pair.Ints(Enumerable.Range(0, rows).Select(i => i % 5 == 4 ? -1 : _random.Next(Math.Max(1, rows / 2))).ToArray(), rows);
        var table = Random(1f, Math.Max(1, rows / 2), width);
        Pair.Tested.ScatterAddRows(dy.Tested, indices.Tested, table.Tested);
        Pair.Reference.ScatterAddRows(dy.Reference, indices.Reference, table.Reference);
        AssertSameNonFinite(table, "scatter-add rows");
    }

    /// <summary>
    /// The optimizer's guards: a NaN anywhere in the gradients makes the sum of squares (and so the global norm) NaN, which
    /// is what tells a trainer to skip the step; AdamW given a NaN gradient writes NaN where IEEE arithmetic puts it.
    /// </summary>
    [Fact]
    public void SumOfSquares_and_AdamW_propagate_nan()
    {
        int[] counts = [1001, 200_003, 5, 64]; // ragged, one spanning many blocks of a device reduction
        var tensors = counts.Select((c, i) => i == counts.Length / 2 ? Planted(1f, c) : Random(1f, c)).ToList();
        Assert.True(double.IsNaN(Pair.Tested.SumOfSquares(tensors.Select(t => t.Tested).ToList())), "sum of squares over many tensors");
        var planted = tensors[counts.Length / 2];
        Assert.True(double.IsNaN(Pair.Tested.SumOfSquares(planted.Tested)), "sum of squares of one tensor");

        var parameter = Random(1f, counts[0]);
        var (first, second) = (Pair.Input(new float[counts[0]], counts[0]), Pair.Input(new float[counts[0]], counts[0]));
        var gradient = Planted(1f, counts[0]);
        var step = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 1, GradientScale: 0.5f);
        Pair.Tested.AdamW([new AdamWParameter(parameter.Tested, gradient.Tested, first.Tested, second.Tested, Decays: true)], step);
        Pair.Reference.AdamW(parameter.Reference, gradient.Reference, first.Reference, second.Reference, step);
        AssertSameNonFinite(parameter, "adamw parameter");
        AssertSameNonFinite(first, "adamw first moment");
        AssertSameNonFinite(second, "adamw second moment");
    }
}
