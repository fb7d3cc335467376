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

    /// <summary>Clears a byte range, whatever the element type: every dtype's zero is all-zero bits.</summary>
    public static unsafe void Zero(byte* start, long bytes, CpuParallel parallel) =>
        parallel.ForRanges(bytes, (from, to) => new Span<byte>(start + from, (int)(to - from)).Clear(), minimumItemsPerRange: 1 << 20);
}
