using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// Token log-probabilities, log-sum-exp and entropy per row of logits [N, V], and the backward, parallel
/// over rows. The forward reads a row once for its max and once more for the exponentials (that read hits
/// the cache), with float32 vector sums over blocks combined in float64; the backward is one pass. Each
/// loop runs on whole vectors; a row's last partial vector goes through the same code on a padded copy.
/// </summary>
internal static unsafe class CpuLogProbs
{
    private const int Block = 1024; // a multiple of every Vector<float>.Count

    private static int Width => Vector<float>.Count;

    public static void Forward(float* logits, int* targets, float* logProbs, float* logSumExp, float* entropy, long rows, int vocab,
        CpuParallel parallel)
    {
        CheckTargets(targets, rows, vocab);
        parallel.ForRanges(rows, (start, end) =>
        {
            float* tail = stackalloc float[Width];
            for (long row = start; row < end; row++)
            {
                float* z = logits + row * vocab;
                int whole = vocab / Width * Width;
                float max = Max(z, whole);
                if (whole < vocab) max = Math.Max(max, Max(Pad(tail, z + whole, vocab - whole, float.NegativeInfinity), Width));
                // With y = z − max: S = Σ eʸ, T = Σ eʸ·y; lse = max + log S and H = lse − Σ p·z = log S − T/S.
                double sum = 0, weighted = 0;
                for (int i = 0; i < whole; i += Block)
                {
                    var (blockSum, blockWeighted) = ExponentialSums(z + i, Math.Min(Block, whole - i), max);
                    (sum, weighted) = (sum + blockSum, weighted + blockWeighted);
                }
                if (whole < vocab)
                {
                    // Padding far below the max has eʸ = 0 exactly, so it adds nothing to either sum.
                    var (tailSum, tailWeighted) = ExponentialSums(Pad(tail, z + whole, vocab - whole, max - 100), Width, max);
                    (sum, weighted) = (sum + tailSum, weighted + tailWeighted);
                }
                logSumExp[row] = (float)(max + Math.Log(sum));
                // (z_t − max) − log S, not z_t − lse: a near-certain target keeps its small log-probability accurate.
                logProbs[row] = targets[row] < 0 ? 0 : (float)(z[targets[row]] - max - Math.Log(sum));
                if (entropy != null) entropy[row] = (float)(Math.Log(sum) - weighted / sum);
            }
        }, minimumItemsPerRange: Math.Max(1, 16384 / vocab));
    }

    /// <summary>
    /// dz_v += a·(1[v = t] − p_v) − b·p_v·(log p_v + H), with a the log-prob gradient (0 for a masked
    /// row) and b the entropy gradient: one pass, dz_v −= p_v·(a + b·H + b·log p_v), then dz_t += a.
    /// </summary>
    public static void Backward(float* logits, int* targets, float* logSumExp, float* logProbGrad, float* entropy, float* entropyGrad,
        float* logitsGrad, long rows, int vocab, CpuParallel parallel)
    {
        CheckTargets(targets, rows, vocab);
        parallel.ForRanges(rows, (start, end) =>
        {
            float* logitsTail = stackalloc float[Width];
            float* gradTail = stackalloc float[Width];
            for (long row = start; row < end; row++)
            {
                float a = targets[row] < 0 ? 0 : logProbGrad[row];
                float b = entropyGrad == null ? 0 : entropyGrad[row];
                if (a == 0 && b == 0) continue;
                var gradient = new RowGradient(logSumExp[row], a + (b == 0 ? 0 : b * entropy[row]), b);
                float* z = logits + row * vocab, dz = logitsGrad + row * vocab;
                int whole = vocab / Width * Width;
                for (int i = 0; i < whole; i += Width) *(Vector<float>*)(dz + i) = gradient.Add(*(Vector<float>*)(z + i), *(Vector<float>*)(dz + i));
                if (whole < vocab)
                {
                    int rest = vocab - whole;
                    var tail = gradient.Add(*(Vector<float>*)Pad(logitsTail, z + whole, rest, 0), *(Vector<float>*)Pad(gradTail, dz + whole, rest, 0));
                    for (int lane = 0; lane < rest; lane++) dz[whole + lane] = tail[lane];
                }
                if (targets[row] >= 0) dz[targets[row]] += a;
            }
        }, minimumItemsPerRange: Math.Max(1, 16384 / vocab));
    }

    // Σ eʸ and Σ eʸ·y over y = z − max for a count of whole vectors.
    private static (float Sum, float Weighted) ExponentialSums(float* z, int count, float max)
    {
        var (sum, weighted) = (Vector<float>.Zero, Vector<float>.Zero);
        for (int i = 0; i < count; i += Width)
        {
            var y = *(Vector<float>*)(z + i) - new Vector<float>(max);
            var e = CpuExp.Exp(y);
            sum += e;
            weighted = Vector.FusedMultiplyAdd(e, y, weighted);
        }
        return (Vector.Sum(sum), Vector.Sum(weighted));
    }

    /// <summary>The row's constants of dz −= p·(offset + b·log p), with log p = z − lse.</summary>
    private readonly struct RowGradient(float lse, float offset, float entropyGrad)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Add(Vector<float> z, Vector<float> dz)
        {
            var logP = z - new Vector<float>(lse);
            var coefficient = Vector.FusedMultiplyAdd(logP, new Vector<float>(entropyGrad), new Vector<float>(offset));
            return dz - CpuExp.Exp(logP) * coefficient;
        }
    }

    // The max over a count of whole vectors.
    private static float Max(float* z, int count)
    {
        var max = new Vector<float>(float.NegativeInfinity);
        for (int i = 0; i < count; i += Width) max = Vector.MaxNative(max, *(Vector<float>*)(z + i));
        float* lanes = stackalloc float[Width];
        *(Vector<float>*)lanes = max;
        float result = float.NegativeInfinity;
        for (int lane = 0; lane < Width; lane++) result = MathF.Max(result, lanes[lane]);
        return result;
    }

    // A row's last partial vector copied into a vector-sized buffer, the other lanes set to `fill`.
    private static float* Pad(float* buffer, float* source, int count, float fill)
    {
        for (int lane = 0; lane < Width; lane++) buffer[lane] = lane < count ? source[lane] : fill;
        return buffer;
    }

    // Checked before the parallel loop, so a bad target throws itself rather than inside an AggregateException.
    private static void CheckTargets(int* targets, long rows, int vocab)
    {
        for (long row = 0; row < rows; row++)
            if (targets[row] >= vocab)
                throw new IndexOutOfRangeException($"target token {targets[row]} outside the vocabulary of {vocab}");
    }
}
