namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>Which shapes the kernel benchmarks use: Mistral-7B's on a GPU, tiny ones on the CPU emulator (CI).</summary>
public enum KernelBenchmarkScale
{
    Full,
    Tiny,
}

/// <summary>
/// Untimed launches first, then <see cref="Repeats"/> samples of <see cref="Launches"/> back-to-back launches each,
/// with <see cref="FlushBytes"/> of device memory written before every sample (more than the L2 cache holds), so
/// no sample reads its inputs from L2 that a previous one left there; 0 flushes nothing.
/// </summary>
public readonly record struct KernelTimingPlan(int Warmup, int Repeats, int Launches, long FlushBytes = 0);

/// <summary>
/// The sizes of one scale. Full: Mistral-7B (hidden 4096, 8 kv heads of 128 → 1024, MLP 14336, vocabulary 32000)
/// on 4096 tokens, attention of batch 1 × 32 query heads × 4096 positions with a 1024-key sliding window.
/// </summary>
public sealed record KernelBenchmarkShapes(
    int Tokens, int Hidden, int KvHidden, int Intermediate, int Vocab,
    int Batch, int Sequence, int QueryHeads, int KvHeads, int HeadDim, int Window,
    int GemmRooflineSize, long CopyBytes, KernelTimingPlan Timing)
{
    public static KernelBenchmarkShapes For(KernelBenchmarkScale scale) => scale switch
    {
        KernelBenchmarkScale.Full => new(Tokens: 4096, Hidden: 4096, KvHidden: 1024, Intermediate: 14336, Vocab: 32000,
            Batch: 1, Sequence: 4096, QueryHeads: 32, KvHeads: 8, HeadDim: 128, Window: 1024,
            // One launch per sample after a 256 MiB flush: more than the L2 of an H100 (50 MB) or H200/B200 (≤ 126 MB).
            GemmRooflineSize: 8192, CopyBytes: 1L << 30, Timing: new(Warmup: 3, Repeats: 25, Launches: 1, FlushBytes: 1L << 28)),
        // Head dim stays 128 (the flash kernels have 64 and 128); everything else just large enough to be ragged-free and quick.
        KernelBenchmarkScale.Tiny => new(Tokens: 64, Hidden: 128, KvHidden: 32, Intermediate: 448, Vocab: 1000,
            Batch: 1, Sequence: 64, QueryHeads: 2, KvHeads: 1, HeadDim: 128, Window: 16,
            GemmRooflineSize: 128, CopyBytes: 1L << 20, Timing: new(Warmup: 0, Repeats: 1, Launches: 1, FlushBytes: 1L << 16)),
        _ => throw new ArgumentOutOfRangeException(nameof(scale), scale, null),
    };
}
