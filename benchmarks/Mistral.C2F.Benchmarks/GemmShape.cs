using System.Runtime.InteropServices;

namespace Mistral.C2F.Benchmarks;

/// <summary>A forward-projection product C[m×n] = A[m×k]·B[n×k]ᵀ and its operands in 64-byte-aligned native memory.</summary>
public sealed record GemmShape(int M, int N, int K)
{
    /// <summary>Square sizes, then the `small` preset's projections at 1024 tokens: q/o, gate/up, down, lm_head.</summary>
    public static IReadOnlyList<GemmShape> All { get; } =
    [
        new(256, 256, 256), new(512, 512, 512), new(1024, 1024, 1024), new(2048, 2048, 2048),
        new(1024, 512, 512), new(1024, 1408, 512), new(1024, 512, 1408), new(1024, 32000, 512),
    ];

    public double Flops => 2.0 * M * N * K;

    public override string ToString() => $"{M}x{N}x{K}";

    internal unsafe sealed class Operands : IDisposable
    {
        public Operands(GemmShape shape, int seed)
        {
            A = Allocate((long)shape.M * shape.K, seed);
            B = Allocate((long)shape.N * shape.K, seed + 1);
            C = Allocate((long)shape.M * shape.N, seed + 2);
        }

        public float* A { get; }
        public float* B { get; }
        public float* C { get; }

        private static float* Allocate(long count, int seed)
        {
            var data = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
            var random = new Random(seed);
            for (long i = 0; i < count; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
            return data;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(A);
            NativeMemory.AlignedFree(B);
            NativeMemory.AlignedFree(C);
        }
    }
}
