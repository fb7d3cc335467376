using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>Rotary embedding in place, rotate-half pairing; angles computed in float64 once per token. Inverse rotates back.</summary>
internal static class CpuRope
{
    public static unsafe void Apply(float* x, int* positions, long tokens, int rowLength, int headDim, double theta, bool inverse, CpuParallel parallel)
    {
        int half = headDim / 2;
        var inverseFrequency = new double[half];
        for (int d = 0; d < half; d++) inverseFrequency[d] = Math.Pow(theta, -2.0 * d / headDim);

        parallel.ForRanges(tokens, (start, end) =>
        {
            Span<float> cos = stackalloc float[half], sin = stackalloc float[half];
            Span<float> x1Sin = stackalloc float[half], x2Sin = stackalloc float[half];
            for (long token = start; token < end; token++)
            {
                for (int d = 0; d < half; d++)
                {
                    (double s, double c) = Math.SinCos(positions[token] * inverseFrequency[d]);
                    (cos[d], sin[d]) = ((float)c, (float)(inverse ? -s : s));
                }
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
}
