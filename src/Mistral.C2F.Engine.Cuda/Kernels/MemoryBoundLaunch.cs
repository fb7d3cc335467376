namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Launch shapes of the memory-bound kernels. They choose their 16-byte-vector or scalar path on the device
/// (a uniform branch on the pointers' alignment), so the shapes here only size the work: grid-stride loops
/// for flat ranges, a block per row for row-wise ops.
/// </summary>
internal static class MemoryBoundLaunch
{
    public const int FlatBlock = 256;

    /// <summary>
    /// Enough blocks of <see cref="FlatBlock"/> to fill an H100 (132 SMs × 8 resident blocks) several times
    /// over; beyond that the grid-stride loop gives each thread more vectors, which costs nothing.
    /// </summary>
    private const int MaxFlatBlocks = 4096;

    /// <summary>A grid-stride launch over <paramref name="count"/> elements, one vector of the storage per step.</summary>
    public static LaunchShape Flat(long count, int vectorWidth)
    {
        long vectors = (count + vectorWidth - 1) / vectorWidth;
        long blocks = Math.Clamp((vectors + FlatBlock - 1) / FlatBlock, 1, MaxFlatBlocks);
        return new LaunchShape(new Dim3((uint)blocks), new Dim3(FlatBlock));
    }

    /// <summary>
    /// One block per row (<paramref name="blocks"/> rows at a time), with threads enough for one vector each
    /// across the row, in whole warps, at most <paramref name="maxThreads"/>.
    /// </summary>
    public static LaunchShape RowBlocks(long blocks, int width, int vectorWidth, int maxThreads, int dynamicSharedBytes = 0)
    {
        int vectors = (int)Math.Min(((long)width + vectorWidth - 1) / vectorWidth, maxThreads);
        int threads = Math.Clamp((vectors + 31) / 32 * 32, 32, maxThreads);
        return new LaunchShape(new Dim3(checked((uint)blocks)), new Dim3((uint)threads), dynamicSharedBytes);
    }

    /// <summary>A size the kernels take as a C int.</summary>
    public static int Int(long value, string what) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw new ArgumentOutOfRangeException(what, value, "kernel sizes are 0..int.MaxValue");
}
