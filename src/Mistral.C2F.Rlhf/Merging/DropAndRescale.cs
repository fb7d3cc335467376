using Mistral.C2F.Engine.Determinism;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// DARE (Yu et al., 2023): each element survives with probability <c>density</c> and is then divided by it, so the
/// expected task vector is unchanged. The draws come from <see cref="SplitMix64"/> on a stream fixed by
/// (seed, model, tensor name), so a merge is reproducible on any machine and independent of tensor order.
/// </summary>
public static class DropAndRescale
{
    private const double UnitPerUInt53 = 1.0 / (1UL << 53);

    /// <summary>Drops and rescales <paramref name="values"/> in place; returns the number of survivors.</summary>
    public static long Apply(Span<float> values, double density, ulong stream)
    {
        if (!(density is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(density), density, "density must be in (0, 1]");
        var random = new SplitMix64(stream);
        // Dividing by the float32 density (not multiplying by a rounded reciprocal) makes density 1 exact.
        float rescale = (float)density;
        long kept = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (Uniform(random) < density)
            {
                values[i] /= rescale;
                kept++;
            }
            else values[i] = 0f;
        }
        return kept;
    }

    /// <summary>The random stream of one model's tensor: different for every seed, model index and name.</summary>
    public static ulong Stream(ulong seed, int model, string tensorName) => Mix(Mix(Mix(seed) ^ (ulong)model) ^ Fnv1a(tensorName));

    /// <summary>Uniform in [0, 1) from the top 53 bits.</summary>
    private static double Uniform(SplitMix64 random) => (random.NextUInt64() >> 11) * UnitPerUInt53;

    // One SplitMix64 step is a bijective scrambler: distinct inputs give distinct, well-spread states.
    private static ulong Mix(ulong value) => new SplitMix64(value).NextUInt64();

    private static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211;
        return hash;
    }
}
