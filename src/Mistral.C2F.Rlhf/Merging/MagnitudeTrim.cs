using System.Buffers;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// Keeps the <c>round(density·n)</c> elements of largest magnitude and zeroes the rest, exactly: elements of equal
/// magnitude at the boundary are kept in index order, so the result never depends on the sort or the machine.
/// </summary>
/// <remarks>
/// The threshold is found by a two-level radix select on the bits of |x| (for non-negative floats the bit patterns
/// order like the values): three passes over the tensor and a 64 K-entry histogram, no copy of the tensor and no sort.
/// The count rounds to nearest rather than truncating, so that 0.29·100 (28.999… in binary) keeps 29.
/// </remarks>
public static class MagnitudeTrim
{
    private const int BucketBits = 16;
    private const uint MagnitudeMask = 0x7FFF_FFFF;

    /// <summary>How many of <paramref name="count"/> elements a trim to <paramref name="density"/> keeps.</summary>
    public static long KeptCount(long count, double density) => (long)Math.Round(density * count, MidpointRounding.ToEven);

    /// <summary>Trims <paramref name="values"/> in place; returns the number of positions kept.</summary>
    public static long Apply(Span<float> values, double density)
    {
        if (!(density is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(density), density, "density must be in (0, 1]");
        long keep = KeptCount(values.Length, density);
        if (keep == values.Length) return keep;
        if (keep == 0)
        {
            values.Clear();
            return 0;
        }
        var (threshold, tiesKept) = Threshold(values, keep);
        for (int i = 0; i < values.Length; i++)
        {
            uint key = Magnitude(values[i]);
            if (key > threshold) continue;
            if (key == threshold && tiesKept > 0)
            {
                tiesKept--;
                continue;
            }
            values[i] = 0f;
        }
        return keep;
    }

    private static uint Magnitude(float value) => BitConverter.SingleToUInt32Bits(value) & MagnitudeMask;

    /// <summary>The magnitude of the keep-th largest element, and how many elements of exactly that magnitude are kept.</summary>
    private static (uint Threshold, long TiesKept) Threshold(ReadOnlySpan<float> values, long keep)
    {
        var counts = ArrayPool<int>.Shared.Rent(1 << BucketBits);
        try
        {
            var histogram = counts.AsSpan(0, 1 << BucketBits);
            histogram.Clear();
            foreach (var value in values) histogram[(int)(Magnitude(value) >> BucketBits)]++;
            var (high, aboveHigh) = BucketOfRank(histogram, keep);

            histogram.Clear();
            foreach (var value in values)
            {
                uint key = Magnitude(value);
                if (key >> BucketBits == high) histogram[(int)(key & ((1u << BucketBits) - 1))]++;
            }
            var (low, aboveLow) = BucketOfRank(histogram, keep - aboveHigh);
            return ((high << BucketBits) | low, keep - aboveHigh - aboveLow);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>Walking down from the largest bucket: the bucket holding the rank-th element, and how many lie above it.</summary>
    private static (uint Bucket, long Above) BucketOfRank(ReadOnlySpan<int> histogram, long rank)
    {
        long above = 0;
        for (int bucket = histogram.Length - 1; bucket > 0; bucket--)
        {
            if (above + histogram[bucket] >= rank) return ((uint)bucket, above);
            above += histogram[bucket];
        }
        return (0, above);
    }
}
