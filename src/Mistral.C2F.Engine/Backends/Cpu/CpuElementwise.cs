using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>Elementwise ops over flat spans, split in cache-sized chunks across threads.</summary>
internal static class CpuElementwise
{
    private const int Chunk = 4096;

    public static unsafe void Add(float* a, float* b, float* output, long count, CpuParallel parallel) =>
        parallel.ForRanges(count, (start, end) =>
        {
            int n = (int)(end - start);
            TensorPrimitives.Add(new ReadOnlySpan<float>(a + start, n), new ReadOnlySpan<float>(b + start, n), new Span<float>(output + start, n));
        }, minimumItemsPerRange: Chunk);

    /// <summary>silu(gate) · up = gate · sigmoid(gate) · up.</summary>
    public static unsafe void SwiGlu(float* gate, float* up, float* output, long count, CpuParallel parallel) =>
        parallel.ForRanges(count, (start, end) =>
        {
            Span<float> sigmoid = stackalloc float[Chunk];
            for (long offset = start; offset < end; offset += Chunk)
            {
                int n = (int)Math.Min(Chunk, end - offset);
                var g = new ReadOnlySpan<float>(gate + offset, n);
                var s = sigmoid[..n];
                TensorPrimitives.Sigmoid(g, s);
                TensorPrimitives.Multiply(s, g, s);
                TensorPrimitives.Multiply(s, new ReadOnlySpan<float>(up + offset, n), new Span<float>(output + offset, n));
            }
        }, minimumItemsPerRange: Chunk);

    /// <summary>
    /// Backward of <see cref="SwiGlu"/>, accumulating: with s = sigmoid(g) and silu = g·s,
    /// du += dout·silu and dg += dout·u·s·(1 + g·(1 − s)), where g·(1 − s) = g − silu.
    /// </summary>
    public static unsafe void SwiGluBackward(float* gate, float* up, float* outputGrad, float* gateGrad, float* upGrad, long count,
        CpuParallel parallel) =>
        parallel.ForRanges(count, (start, end) =>
        {
            Span<float> sigmoidChunk = stackalloc float[Chunk], scratchChunk = stackalloc float[Chunk];
            for (long offset = start; offset < end; offset += Chunk)
            {
                int n = (int)Math.Min(Chunk, end - offset);
                Span<float> s = sigmoidChunk[..n], t = scratchChunk[..n];
                var g = new ReadOnlySpan<float>(gate + offset, n);
                var dOut = new ReadOnlySpan<float>(outputGrad + offset, n);
                var du = new Span<float>(upGrad + offset, n);
                var dg = new Span<float>(gateGrad + offset, n);
                TensorPrimitives.Sigmoid(g, s);
                TensorPrimitives.Multiply(g, s, t);                 // silu
                TensorPrimitives.FusedMultiplyAdd(dOut, t, du, du);
                TensorPrimitives.Subtract(g, t, t);                 // g·(1 − s)
                TensorPrimitives.FusedMultiplyAdd(t, s, s, t);      // s·(1 + g·(1 − s))
                TensorPrimitives.Multiply(t, dOut, t);
                TensorPrimitives.FusedMultiplyAdd(t, new ReadOnlySpan<float>(up + offset, n), dg, dg);
            }
        }, minimumItemsPerRange: Chunk);

    /// <summary>Clears a byte range, whatever the element type: every dtype's zero is all-zero bits.</summary>
    public static unsafe void Zero(byte* start, long bytes, CpuParallel parallel) =>
        parallel.ForRanges(bytes, (from, to) => new Span<byte>(start + from, (int)(to - from)).Clear(), minimumItemsPerRange: 1 << 16);
}
