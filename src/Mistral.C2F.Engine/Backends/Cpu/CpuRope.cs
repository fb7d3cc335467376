using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>Rotary embedding in place, rotate-half pairing; angles computed in float64, then rounded. Inverse rotates back.</summary>
internal static class CpuRope
{
    public static unsafe void Apply(float* x, int* positions, long tokens, int rowLength, int headDim, double theta, bool inverse, CpuParallel parallel)
    {
        if (tokens == 0) return;
        int half = headDim / 2;
        var inverseFrequency = new double[half];
        for (int d = 0; d < half; d++) inverseFrequency[d] = Math.Pow(theta, -2.0 * d / headDim);
        var table = AngleTable.For(positions, tokens, inverseFrequency, inverse);

        parallel.ForRanges(tokens, (start, end) =>
        {
            Span<float> ownCos = stackalloc float[half], ownSin = stackalloc float[half];
            Span<float> x1Sin = stackalloc float[half], x2Sin = stackalloc float[half];
            for (long token = start; token < end; token++)
            {
                if (table is null) Angles(positions[token], inverseFrequency, inverse, ownCos, ownSin);
                ReadOnlySpan<float> cos = table is null ? ownCos : table.Cos(positions[token]);
                ReadOnlySpan<float> sin = table is null ? ownSin : table.Sin(positions[token]);
                for (int head = 0; head < rowLength / headDim; head++)
                {
                    var x1 = new Span<float>(x + token * rowLength + head * headDim, half);
                    var x2 = new Span<float>(x + token * rowLength + head * headDim + half, half);
                    TensorPrimitives.Multiply(x1, sin, x1Sin);
                    TensorPrimitives.Multiply(x2, sin, x2Sin);
                    TensorPrimitives.Negate(x2Sin, x2Sin);
                    TensorPrimitives.FusedMultiplyAdd(x1, cos, x2Sin, x1); // x1·cos − x2·sin
                    TensorPrimitives.FusedMultiplyAdd(x2, cos, x1Sin, x2); // x2·cos + x1·sin
                }
            }
        }, minimumItemsPerRange: 8);
    }

    /// <summary>cos and sin (negated for the inverse) of one position's angles, each rounded from float64.</summary>
    private static void Angles(int position, double[] inverseFrequency, bool inverse, Span<float> cos, Span<float> sin)
    {
        for (int d = 0; d < inverseFrequency.Length; d++)
        {
            (double s, double c) = Math.SinCos(position * inverseFrequency[d]);
            (cos[d], sin[d]) = ((float)c, (float)(inverse ? -s : s));
        }
    }

    /// <summary>
    /// The angles of every position from the lowest to the highest in the batch, computed once: a training batch repeats
    /// each position in every row, and SinCos per token and frequency was most of the op's time. Same values as per token.
    /// </summary>
    private sealed class AngleTable(int lowest, int half, float[] cos, float[] sin)
    {
        /// <summary>The table, or null when the positions span more values than there are tokens (decoding far into sequences).</summary>
        public static unsafe AngleTable? For(int* positions, long tokens, double[] inverseFrequency, bool inverse)
        {
            var all = new ReadOnlySpan<int>(positions, checked((int)tokens));
            int lowest = TensorPrimitives.Min(all), span = TensorPrimitives.Max(all) - lowest + 1, half = inverseFrequency.Length;
            if (span > tokens) return null;
            var (cos, sin) = (new float[span * half], new float[span * half]);
            for (int p = 0; p < span; p++)
                Angles(lowest + p, inverseFrequency, inverse, cos.AsSpan(p * half, half), sin.AsSpan(p * half, half));
            return new AngleTable(lowest, half, cos, sin);
        }

        public ReadOnlySpan<float> Cos(int position) => cos.AsSpan((position - lowest) * half, half);
        public ReadOnlySpan<float> Sin(int position) => sin.AsSpan((position - lowest) * half, half);
    }
}
