using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends.Reference;

/// <summary>The backward ops in float64, each written from its derivation; gradients accumulate.</summary>
public sealed partial class ReferenceBackend
{
    protected override void ZeroCore(Tensor t)
    {
        if (t.DType == DType.I32) t.HostSpan<int>().Clear();
        else t.HostSpan<double>().Clear();
    }

    protected override void ScatterAddRowsCore(Tensor source, Tensor indices, Tensor destination)
    {
        var src = source.HostSpan<double>();
        var dst = destination.HostSpan<double>();
        var idx = indices.HostSpan<int>();
        int width = source.Shape.Columns;
        for (int i = 0; i < idx.Length; i++)
        {
            if (idx[i] == -1) continue;
            if (idx[i] < 0 || idx[i] >= destination.Shape.Rows) throw new IndexOutOfRangeException($"{nameof(ScatterAddRows)}: row index {idx[i]} outside 0..{destination.Shape.Rows - 1}");
            for (int c = 0; c < width; c++) dst[idx[i] * width + c] += src[i * width + c];
        }
    }

    // y = x·r·w with r = (mean x² + ε)^-½:  dw += Σ dy·x·r,  dx = r·w·dy − x·r³/H·Σ(dy·w·x).
    protected override void RmsNormBackwardCore(Tensor input, Tensor weight, Tensor inverseRms, Tensor outputGrad, Tensor inputGrad, Tensor? weightGrad)
    {
        var x = input.HostSpan<double>();
        var w = weight.HostSpan<double>();
        var inv = inverseRms.HostSpan<double>();
        var dy = outputGrad.HostSpan<double>();
        var dx = inputGrad.HostSpan<double>();
        var dw = weightGrad is null ? Span<double>.Empty : weightGrad.HostSpan<double>();
        int h = input.Shape.Columns;
        for (int row = 0; row < input.Shape.Rows; row++)
        {
            double r = inv[row], dot = 0;
            for (int i = 0; i < h; i++) dot += dy[row * h + i] * w[i] * x[row * h + i];
            for (int i = 0; i < h; i++)
            {
                int e = row * h + i;
                if (!dw.IsEmpty) dw[i] += dy[e] * x[e] * r;
                dx[e] += r * w[i] * dy[e] - x[e] * r * r * r / h * dot;
            }
        }
    }

    // With p = softmax(s), s = scale·q·k: dv += p·dO, dp = dO·v, ds = p(dp − Σp·dp), dq += scale·ds·k, dk += scale·ds·q.
    protected override void AttentionBackwardCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad)
    {
        var Q = q.HostSpan<double>();
        var K = k.HostSpan<double>();
        var V = v.HostSpan<double>();
        var dO = outputGrad.HostSpan<double>();
        var dQ = queryGrad.HostSpan<double>();
        var dK = keyGrad.HostSpan<double>();
        var dV = valueGrad.HostSpan<double>();
        var lse = logSumExp.HostSpan<double>();
        var qPos = queryPositions.HostSpan<int>();
        var kPos = keyPositions.HostSpan<int>();
        int d = spec.HeadDim, hq = spec.QueryHeads, hkv = spec.KvHeads;
        var p = new double[keyLength];
        var dp = new double[keyLength];
        var visible = new bool[keyLength];
        for (int b = 0; b < batch; b++)
        for (int head = 0; head < hq; head++)
        for (int i = 0; i < queryLength; i++)
        {
            int kvHead = head / spec.GroupSize, qp = qPos[b * queryLength + i];
            double rowLse = lse[(b * hq + head) * queryLength + i];
            if (double.IsNegativeInfinity(rowLse)) continue; // a query that sees no key
            int qOffset = ((b * queryLength + i) * hq + head) * d;
            double expectedDp = 0;
            for (int j = 0; j < keyLength; j++)
            {
                (p[j], dp[j]) = (0, 0);
                visible[j] = spec.IsVisible(qp, kPos[b * keyLength + j]);
                if (!visible[j]) continue;
                int kOffset = ((b * keyLength + j) * hkv + kvHead) * d;
                double score = 0;
                for (int e = 0; e < d; e++) (score, dp[j]) = (score + Q[qOffset + e] * K[kOffset + e], dp[j] + dO[qOffset + e] * V[kOffset + e]);
                p[j] = Math.Exp(score * spec.Scale - rowLse);
                expectedDp += p[j] * dp[j];
            }
            for (int j = 0; j < keyLength; j++)
            {
                if (!visible[j]) continue;
                int kOffset = ((b * keyLength + j) * hkv + kvHead) * d;
                double ds = p[j] * (dp[j] - expectedDp) * spec.Scale;
                for (int e = 0; e < d; e++)
                {
                    dQ[qOffset + e] += ds * K[kOffset + e];
                    dK[kOffset + e] += ds * Q[qOffset + e];
                    dV[kOffset + e] += p[j] * dO[qOffset + e];
                }
            }
        }
    }

    // out = g·σ(g)·u:  dg += dout·u·σ(g)·(1 + g·(1 − σ(g))),  du += dout·g·σ(g).
    protected override void SwiGluBackwardCore(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad)
    {
        var g = gate.HostSpan<double>();
        var u = up.HostSpan<double>();
        var dOut = outputGrad.HostSpan<double>();
        var dg = gateGrad.HostSpan<double>();
        var du = upGrad.HostSpan<double>();
        for (int i = 0; i < g.Length; i++)
        {
            double sigmoid = 1 / (1 + Math.Exp(-g[i]));
            dg[i] += dOut[i] * u[i] * sigmoid * (1 + g[i] * (1 - sigmoid));
            du[i] += dOut[i] * g[i] * sigmoid;
        }
    }

    // log p_t = z_t − lse;  H = lse − Σ p·z.
    protected override void TokenLogProbsCore(Tensor logits, Tensor targets, Tensor logProbs, Tensor logSumExp, Tensor? entropy)
    {
        var z = logits.HostSpan<double>();
        var t = targets.HostSpan<int>();
        var lp = logProbs.HostSpan<double>();
        var lse = logSumExp.HostSpan<double>();
        int vocab = logits.Shape.Columns;
        for (int row = 0; row < t.Length; row++)
        {
            var zr = z.Slice(row * vocab, vocab);
            double max = double.NegativeInfinity, sum = 0, expected = 0;
            foreach (var value in zr) max = Math.Max(max, value);
            foreach (var value in zr) sum += Math.Exp(value - max);
            lse[row] = max + Math.Log(sum);
            lp[row] = t[row] < 0 ? 0 : zr[Target(t[row], vocab)] - lse[row];
            if (entropy is null) continue;
            foreach (var value in zr) expected += Math.Exp(value - lse[row]) * value;
            entropy.HostSpan<double>()[row] = lse[row] - expected;
        }
    }

    // d log p_t / dz_v = 1[v = t] − p_v;  dH/dz_v = −p_v·(log p_v + H).
    protected override void TokenLogProbsBackwardCore(Tensor logits, Tensor targets, Tensor logSumExp, Tensor logProbGrad,
        Tensor? entropy, Tensor? entropyGrad, Tensor logitsGrad)
    {
        var z = logits.HostSpan<double>();
        var t = targets.HostSpan<int>();
        var lse = logSumExp.HostSpan<double>();
        var dlp = logProbGrad.HostSpan<double>();
        var dz = logitsGrad.HostSpan<double>();
        int vocab = logits.Shape.Columns;
        for (int row = 0; row < t.Length; row++)
        for (int v = 0; v < vocab; v++)
        {
            int e = row * vocab + v;
            double logP = z[e] - lse[row], p = Math.Exp(logP);
            if (t[row] >= 0) dz[e] += dlp[row] * ((v == Target(t[row], vocab) ? 1 : 0) - p);
            if (entropy is not null) dz[e] += entropyGrad!.HostSpan<double>()[row] * -p * (logP + entropy.HostSpan<double>()[row]);
        }
    }

    protected override void AdamWCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWStep step)
    {
        var p = parameter.HostSpan<double>();
        var g = gradient.HostSpan<double>();
        var m = firstMoment.HostSpan<double>();
        var v = secondMoment.HostSpan<double>();
        for (int i = 0; i < p.Length; i++)
        {
            double grad = g[i] * step.GradientScale;
            m[i] = step.Beta1 * m[i] + (1 - step.Beta1) * grad;
            v[i] = step.Beta2 * v[i] + (1 - step.Beta2) * grad * grad;
            double update = m[i] / step.FirstMomentCorrection / (Math.Sqrt(v[i] / step.SecondMomentCorrection) + step.Epsilon);
            p[i] -= step.LearningRate * (update + step.WeightDecay * p[i]);
        }
    }

    protected override double SumOfSquaresCore(Tensor t)
    {
        double sum = 0;
        foreach (var value in t.HostSpan<double>()) sum += value * value;
        return sum;
    }

    private static int Target(int target, int vocab) =>
        target < vocab ? target : throw new IndexOutOfRangeException($"target token {target} outside the vocabulary of {vocab}");
}
