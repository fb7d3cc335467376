using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// Position ranges by which the attention kernels skip key blocks that no query sees and drop the mask of blocks
/// that every query sees whole. A query's visible keys are one interval of positions, so the corners of a range of
/// queries and a range of keys decide both.
/// </summary>
internal static unsafe class CpuAttentionBlocks
{
    public static (int Min, int Max) Range(int* positions, int count)
    {
        int min = int.MaxValue, max = int.MinValue;
        for (int i = 0; i < count; i++) (min, max) = (Math.Min(min, positions[i]), Math.Max(max, positions[i]));
        return (min, max);
    }

    /// <summary>
    /// The lowest and highest position of the filled slots of a key block (position ≥ 0; Min &gt; Max when every slot is
    /// empty) and whether every slot is filled. Vectorised: the forward asks it once per block for every few query rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (int Min, int Max, bool Full) KeySlots(int* positions, int count)
    {
        // As unsigned numbers empty slots (negative) are above every filled one, so the unsigned minimum skips them.
        var (lowest, highest, signedLowest) = (new Vector<uint>(uint.MaxValue), new Vector<int>(int.MinValue), new Vector<int>(int.MaxValue));
        int j = 0;
        for (; j + Vector<int>.Count <= count; j += Vector<int>.Count)
        {
            var slot = *(Vector<int>*)(positions + j);
            (lowest, highest, signedLowest) = (Vector.Min(lowest, Vector.AsVectorUInt32(slot)), Vector.Max(highest, slot), Vector.Min(signedLowest, slot));
        }
        var (min, max, signedMin) = (uint.MaxValue, int.MinValue, int.MaxValue);
        for (int i = 0; i < Vector<int>.Count; i++) (min, max, signedMin) = (Math.Min(min, lowest[i]), Math.Max(max, highest[i]), Math.Min(signedMin, signedLowest[i]));
        for (; j < count; j++) (min, max, signedMin) = (Math.Min(min, (uint)positions[j]), Math.Max(max, positions[j]), Math.Min(signedMin, positions[j]));
        return max < 0 ? (int.MaxValue, int.MinValue, false) : ((int)min, max, signedMin >= 0);
    }

    /// <summary>Whether some query in [minQuery, maxQuery] might see some filled key in [minKey, maxKey]; the masks decide exactly.</summary>
    public static bool MaySee(this AttentionSpec spec, int minQuery, int maxQuery, int minKey, int maxKey) =>
        minKey <= maxQuery && (spec.SlidingWindow is not int window || (long)minQuery - window < maxKey);

    /// <summary>Whether every query in [minQuery, maxQuery] sees every filled key in [minKey, maxKey].</summary>
    public static bool SeesAll(this AttentionSpec spec, int minQuery, int maxQuery, int minKey, int maxKey) =>
        spec.IsVisible(minQuery, maxKey) && spec.IsVisible(maxQuery, minKey);
}
