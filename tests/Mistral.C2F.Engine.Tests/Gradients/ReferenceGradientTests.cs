using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Gradients;

/// <summary>
/// Every float64 backward against central finite differences of its forward, for the objective
/// L = Σ r ⊙ f(x) with a fresh random r (so dL/df = r). The reference is the oracle of all other backwards.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class ReferenceGradientTests
{
    private readonly ReferenceBackend _ref = new();
    private readonly Random _random = new();

    private Tensor T(double[] values, params int[] dims)
    {
        var t = _ref.Allocate(new Shape(dims), DType.F64);
        _ref.Upload(values, t);
        return t;
    }

    private Tensor Zeros(params int[] dims)
    {
        var t = _ref.Allocate(new Shape(dims), DType.F64);
        _ref.Zero(t);
        return t;
    }

    private double[] Get(Tensor t) => _ref.ToDoubles(t);

    [Theory]
    [InlineData(3, 7)]
    [InlineData(5, 33)]
    public void RmsNorm(int rows, int width)
    {
        var x = FiniteDifferences.RandomDoubles(_random, rows * width, 2);
        var w = FiniteDifferences.RandomDoubles(_random, width);
        var r = FiniteDifferences.RandomDoubles(_random, rows * width);
        double Objective()
        {
            var y = Zeros(rows, width);
            _ref.RmsNorm(T(x, rows, width), T(w, width), 1e-5f, y);
            return FiniteDifferences.Dot(Get(y), r);
        }
        var (dx, dw, inv) = (Zeros(rows, width), Zeros(width), Zeros(rows));
        _ref.RmsNorm(T(x, rows, width), T(w, width), 1e-5f, Zeros(rows, width), inv);
        _ref.RmsNormBackward(T(x, rows, width), T(w, width), inv, T(r, rows, width), dx, dw);
        FiniteDifferences.Check(x, Objective, Get(dx), "d input", _random);
        FiniteDifferences.Check(w, Objective, Get(dw), "d weight", _random);
    }

    [Theory]
    [InlineData(1, 6, 2, 2, 4, null)]
    [InlineData(2, 9, 4, 2, 6, 3)]
    [InlineData(1, 7, 3, 1, 8, 4)]
    public void Attention(int batch, int length, int queryHeads, int kvHeads, int headDim, int? window)
    {
        var spec = new AttentionSpec(queryHeads, kvHeads, headDim, window);
        var q = FiniteDifferences.RandomDoubles(_random, batch * length * queryHeads * headDim, 1.5);
        var k = FiniteDifferences.RandomDoubles(_random, batch * length * kvHeads * headDim, 1.5);
        var v = FiniteDifferences.RandomDoubles(_random, batch * length * kvHeads * headDim);
        var r = FiniteDifferences.RandomDoubles(_random, q.Length);
        var positions = _ref.FromInts(Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(0, length)).ToArray(), batch, length);
        int qWidth = queryHeads * headDim, kvWidth = kvHeads * headDim;
        (Tensor Output, Tensor Lse) Forward()
        {
            var (output, lse) = (Zeros(batch, length, qWidth), Zeros(batch, queryHeads, length));
            _ref.Attention(T(q, batch, length, qWidth), T(k, batch, length, kvWidth), T(v, batch, length, kvWidth), positions, positions, spec, output, lse);
            return (output, lse);
        }
        double Objective() => FiniteDifferences.Dot(Get(Forward().Output), r);

        var (o, l) = Forward();
        var (dq, dk, dv) = (Zeros(batch, length, qWidth), Zeros(batch, length, kvWidth), Zeros(batch, length, kvWidth));
        _ref.AttentionBackward(T(q, batch, length, qWidth), T(k, batch, length, kvWidth), T(v, batch, length, kvWidth), positions, positions, spec,
            o, l, T(r, batch, length, qWidth), dq, dk, dv);
        FiniteDifferences.Check(q, Objective, Get(dq), "dq", _random);
        FiniteDifferences.Check(k, Objective, Get(dk), "dk", _random);
        FiniteDifferences.Check(v, Objective, Get(dv), "dv", _random);
    }

    [Fact]
    public void SwiGlu()
    {
        var (g, u, r) = (FiniteDifferences.RandomDoubles(_random, 50, 4), FiniteDifferences.RandomDoubles(_random, 50), FiniteDifferences.RandomDoubles(_random, 50));
        double Objective()
        {
            var y = Zeros(50);
            _ref.SwiGlu(T(g, 50), T(u, 50), y);
            return FiniteDifferences.Dot(Get(y), r);
        }
        var (dg, du) = (Zeros(50), Zeros(50));
        _ref.SwiGluBackward(T(g, 50), T(u, 50), T(r, 50), dg, du);
        FiniteDifferences.Check(g, Objective, Get(dg), "d gate", _random);
        FiniteDifferences.Check(u, Objective, Get(du), "d up", _random);
    }

    [Fact]
    public void TokenLogProbs_and_entropy()
    {
        int rows = 6, vocab = 11;
        var z = FiniteDifferences.RandomDoubles(_random, rows * vocab, 3);
        int[] targets = [3, -1, 0, 10, 5, -1];
        var (a, b) = (FiniteDifferences.RandomDoubles(_random, rows), FiniteDifferences.RandomDoubles(_random, rows));
        var t = _ref.FromInts(targets, rows);
        (Tensor LogProbs, Tensor Lse, Tensor Entropy) Forward()
        {
            var (lp, lse, h) = (Zeros(rows), Zeros(rows), Zeros(rows));
            _ref.TokenLogProbs(T(z, rows, vocab), t, lp, lse, h);
            return (lp, lse, h);
        }
        double Objective()
        {
            var (lp, _, h) = Forward();
            return FiniteDifferences.Dot(Get(lp), a) + FiniteDifferences.Dot(Get(h), b);
        }
        var (logProbs, logSumExp, entropy) = Forward();
        Assert.Equal(0, Get(logProbs)[1]);
        var dz = Zeros(rows, vocab);
        _ref.TokenLogProbsBackward(T(z, rows, vocab), t, logSumExp, T(a, rows), entropy, T(b, rows), dz);
        FiniteDifferences.Check(z, Objective, Get(dz), "d logits", _random, samples: 66);
    }

    [Fact]
    public void Inverse_rope_is_the_adjoint_of_rope_and_scatter_add_the_adjoint_of_gather()
    {
        var x = FiniteDifferences.RandomDoubles(_random, 5 * 12);
        var r = FiniteDifferences.RandomDoubles(_random, 5 * 12);
        var positions = _ref.FromInts([0, 7, 300, 2, 41], 5);
        var (rotated, back) = (T(x, 5, 12), T(r, 5, 12));
        _ref.Rope(rotated, positions, 6, 10000);
        _ref.Rope(back, positions, 6, 10000, inverse: true);
        Assert.Equal(FiniteDifferences.Dot(Get(rotated), r), FiniteDifferences.Dot(x, Get(back)), 12);

        var table = FiniteDifferences.RandomDoubles(_random, 9 * 4);
        var rows = FiniteDifferences.RandomDoubles(_random, 5 * 4);
        var indices = _ref.FromInts([2, 8, 2, -1, 0], 5);
        var gathered = Zeros(5, 4);
        _ref.GatherRows(T(table, 9, 4), indices, gathered);
        var scattered = Zeros(9, 4);
        _ref.ScatterAddRows(T(rows, 5, 4), indices, scattered);
        Assert.Equal(FiniteDifferences.Dot(Get(gathered), rows), FiniteDifferences.Dot(table, Get(scattered)), 12);
    }

    [Fact]
    public void AdamW_matches_its_definition_over_several_steps()
    {
        var (p, m, v) = (FiniteDifferences.RandomDoubles(_random, 10), new double[10], new double[10]);
        var (param, first, second) = (T(p, 10), Zeros(10), Zeros(10));
        for (int step = 1; step <= 3; step++)
        {
            var g = FiniteDifferences.RandomDoubles(_random, 10);
            var adam = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step, GradientScale: 0.5f);
            _ref.AdamW(param, T(g, 10), first, second, adam);
            for (int i = 0; i < 10; i++)
            {
                double grad = 0.5 * g[i];
                m[i] = 0.9f * m[i] + (1 - 0.9f) * grad;
                v[i] = 0.95f * v[i] + (1 - 0.95f) * grad * grad;
                p[i] -= 1e-2f * (m[i] / (1 - Math.Pow(0.9f, step)) / (Math.Sqrt(v[i] / (1 - Math.Pow(0.95f, step))) + 1e-8f) + 0.1f * p[i]);
            }
        }
        Assert.Equal(p, Get(param), (x, y) => Math.Abs(x - y) < 1e-12);
    }
}
