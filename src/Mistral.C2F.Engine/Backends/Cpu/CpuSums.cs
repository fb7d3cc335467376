using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// Long float32 reductions: float32 partial sums over short blocks, combined in float64, so the error
/// stays near one rounding however long the input is.
/// </summary>
internal static class CpuSums
{
    private const int Block = 256;
    private const int Chunk = 1 << 16; // one work item of the parallel sum

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double total = 0;
        for (int i = 0; i < a.Length; i += Block)
        {
            int n = Math.Min(Block, a.Length - i);
            total += TensorPrimitives.Dot(a.Slice(i, n), b.Slice(i, n));
        }
        return total;
    }

    public static double SumOfSquares(ReadOnlySpan<float> values) => Dot(values, values);

    /// <summary>Σ x² over a whole tensor; chunk partials are added in chunk order, so the result does not depend on scheduling.</summary>
    public static unsafe double SumOfSquares(float* values, long count, CpuParallel parallel)
    {
        int chunks = (int)((count + Chunk - 1) / Chunk);
        var partials = new double[chunks];
        parallel.ForEach(chunks, c =>
        {
            long start = (long)c * Chunk;
            partials[c] = SumOfSquares(new ReadOnlySpan<float>(values + start, (int)Math.Min(Chunk, count - start)));
        });
        double total = 0;
        foreach (double partial in partials) total += partial;
        return total;
    }
}
