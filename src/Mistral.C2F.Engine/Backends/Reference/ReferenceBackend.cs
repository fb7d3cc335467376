using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends.Reference;

/// <summary>
/// The float64 reference: every op written as plainly as its definition, single-threaded, no tiling.
/// All other kernels are tested against it; it is never the fast path.
/// </summary>
public sealed partial class ReferenceBackend : HostBackend
{
    public override string Name => "reference-f64";
    public override DType FloatType => DType.F64;

    protected override void RmsNormCore(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms)
    {
        var x = input.HostSpan<double>();
        var w = weight.HostSpan<double>();
        var y = output.HostSpan<double>();
        int h = input.Shape.Columns;
        for (int row = 0; row < input.Shape.Rows; row++)
        {
            var xr = x.Slice(row * h, h);
            double sumOfSquares = 0;
            foreach (var value in xr) sumOfSquares += value * value;
            double inv = 1.0 / Math.Sqrt(sumOfSquares / h + epsilon);
            for (int i = 0; i < h; i++) y[row * h + i] = xr[i] * inv * w[i];
            if (inverseRms is not null) inverseRms.HostSpan<double>()[row] = inv;
        }
    }

    protected override void AddRmsNormCore(Tensor a, Tensor b, Tensor weight, float epsilon, Tensor sum, Tensor output, Tensor? inverseRms)
    {
        AddCore(a, b, sum);
        RmsNormCore(sum, weight, epsilon, output, inverseRms);
    }

    protected override void MatMulCore(Tensor a, Tensor b, Tensor c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        var A = a.HostSpan<double>();
        var B = b.HostSpan<double>();
        var C = c.HostSpan<double>();
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int p = 0; p < k; p++)
            {
                double aip = transposeA ? A[p * m + i] : A[i * k + p];
                double bpj = transposeB ? B[j * k + p] : B[p * n + j];
                sum += aip * bpj;
            }
            C[i * n + j] = accumulate ? C[i * n + j] + sum : sum;
        }
    }

    protected override void RopeCore(Tensor x, Tensor positions, int headDim, double theta, bool inverse)
    {
        var values = x.HostSpan<double>();
        var pos = positions.HostSpan<int>();
        int half = headDim / 2, rowLength = x.Shape.Columns;
        for (int token = 0; token < pos.Length; token++)
        for (int head = 0; head < rowLength / headDim; head++)
        {
            var v = values.Slice(token * rowLength + head * headDim, headDim);
            for (int d = 0; d < half; d++)
            {
                double angle = (inverse ? -1 : 1) * pos[token] * Math.Pow(theta, -2.0 * d / headDim);
                double x1 = v[d], x2 = v[d + half];
                v[d] = x1 * Math.Cos(angle) - x2 * Math.Sin(angle);
                v[d + half] = x2 * Math.Cos(angle) + x1 * Math.Sin(angle);
            }
        }
    }

    protected override void AttentionCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor? logSumExp)
    {
        var Q = q.HostSpan<double>();
        var K = k.HostSpan<double>();
        var V = v.HostSpan<double>();
        var O = output.HostSpan<double>();
        var qPos = queryPositions.HostSpan<int>();
        var kPos = keyPositions.HostSpan<int>();
        int d = spec.HeadDim, hq = spec.QueryHeads, hkv = spec.KvHeads;
        var scores = new double[keyLength];
        var visible = new bool[keyLength];
        for (int b = 0; b < batch; b++)
        for (int head = 0; head < hq; head++)
        for (int i = 0; i < queryLength; i++)
        {
            int kvHead = head / spec.GroupSize, qp = qPos[b * queryLength + i];
            var query = Q.Slice(((b * queryLength + i) * hq + head) * d, d);
            // Visibility, not the value of a score, decides which keys take part: a NaN score must reach the output.
            double max = double.NegativeInfinity;
            bool seesAny = false;
            for (int j = 0; j < keyLength; j++)
            {
                visible[j] = spec.IsVisible(qp, kPos[b * keyLength + j]);
                if (!visible[j]) continue;
                var key = K.Slice(((b * keyLength + j) * hkv + kvHead) * d, d);
                double dot = 0;
                for (int e = 0; e < d; e++) dot += query[e] * key[e];
                scores[j] = dot * spec.Scale;
                max = Math.Max(max, scores[j]);
                seesAny = true;
            }
            var o = O.Slice(((b * queryLength + i) * hq + head) * d, d);
            o.Clear();
            double sum = 0;
            for (int j = 0; j < keyLength; j++)
            {
                if (!visible[j]) continue;
                double p = Math.Exp(scores[j] - max);
                sum += p;
                var value = V.Slice(((b * keyLength + j) * hkv + kvHead) * d, d);
                for (int e = 0; e < d; e++) o[e] += p * value[e];
            }
            if (seesAny)
                for (int e = 0; e < d; e++) o[e] /= sum;
            if (logSumExp is not null)
                logSumExp.HostSpan<double>()[(b * hq + head) * queryLength + i] = seesAny ? max + Math.Log(sum) : double.NegativeInfinity;
        }
    }

    protected override void SwiGluCore(Tensor gate, Tensor up, Tensor output)
    {
        var g = gate.HostSpan<double>();
        var u = up.HostSpan<double>();
        var o = output.HostSpan<double>();
        for (int i = 0; i < g.Length; i++) o[i] = g[i] / (1 + Math.Exp(-g[i])) * u[i];
    }

    protected override void AddCore(Tensor a, Tensor b, Tensor output)
    {
        var x = a.HostSpan<double>();
        var y = b.HostSpan<double>();
        var o = output.HostSpan<double>();
        for (int i = 0; i < x.Length; i++) o[i] = x[i] + y[i];
    }
}
