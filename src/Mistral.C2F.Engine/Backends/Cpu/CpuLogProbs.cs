using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// Token log-probabilities, log-sum-exp and entropy per row of logits [N, V], and the backward.
/// A row is read once for its max and once more, block by block, for the exponentials (the second read
/// hits the cache); sums of a block are float32, blocks are combined in float64. Parallel over rows.
/// </summary>
internal static unsafe class CpuLogProbs
{
    private const int Block = 1024;

    public static void Forward(float* logits, int* targets, float* logProbs, float* logSumExp, float* entropy, long rows, int vocab,
        CpuParallel parallel)
    {
        CheckTargets(targets, rows, vocab);
        parallel.ForRanges(rows, (start, end) =>
        {
            Span<float> shiftedBlock = stackalloc float[Block], expBlock = stackalloc float[Block];
            for (long row = start; row < end; row++)
            {
                var z = new ReadOnlySpan<float>(logits + row * vocab, vocab);
                float max = TensorPrimitives.Max(z);
                // With y = z − max: S = Σ eʸ, T = Σ eʸ·y; lse = max + log S and H = lse − Σ p·z = log S − T/S.
                double sum = 0, weighted = 0;
                for (int i = 0; i < vocab; i += Block)
                {
                    int n = Math.Min(Block, vocab - i);
                    Span<float> y = shiftedBlock[..n], e = expBlock[..n];
                    TensorPrimitives.Subtract(z.Slice(i, n), max, y);
                    TensorPrimitives.Exp(y, e);
                    sum += TensorPrimitives.Sum(e);
                    if (entropy != null) weighted += TensorPrimitives.Dot(e, y);
                }
                float lse = (float)(max + Math.Log(sum));
                logSumExp[row] = lse;
                logProbs[row] = targets[row] < 0 ? 0 : z[targets[row]] - lse;
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
            Span<float> logPBlock = stackalloc float[Block], coefficientBlock = stackalloc float[Block];
            for (long row = start; row < end; row++)
            {
                float a = targets[row] < 0 ? 0 : logProbGrad[row];
                float b = entropyGrad == null ? 0 : entropyGrad[row];
                if (a == 0 && b == 0) continue;
                float offset = a + (b == 0 ? 0 : b * entropy[row]);
                var z = new ReadOnlySpan<float>(logits + row * vocab, vocab);
                var dz = new Span<float>(logitsGrad + row * vocab, vocab);
                for (int i = 0; i < vocab; i += Block)
                {
                    int n = Math.Min(Block, vocab - i);
                    Span<float> logP = logPBlock[..n], c = coefficientBlock[..n];
                    TensorPrimitives.Subtract(z.Slice(i, n), logSumExp[row], logP);
                    TensorPrimitives.Multiply(logP, b, c);
                    TensorPrimitives.Add(c, offset, c);
                    TensorPrimitives.Exp(logP, logP);
                    TensorPrimitives.Multiply(logP, c, c);
                    TensorPrimitives.Subtract(dz.Slice(i, n), c, dz.Slice(i, n));
                }
                if (targets[row] >= 0) dz[targets[row]] += a;
            }
        }, minimumItemsPerRange: Math.Max(1, 16384 / vocab));
    }

    // Checked before the parallel loop, so a bad target throws itself rather than inside an AggregateException.
    private static void CheckTargets(int* targets, long rows, int vocab)
    {
        for (long row = 0; row < rows; row++)
            if (targets[row] >= vocab)
                throw new IndexOutOfRangeException($"target token {targets[row]} outside the vocabulary of {vocab}");
    }
}
