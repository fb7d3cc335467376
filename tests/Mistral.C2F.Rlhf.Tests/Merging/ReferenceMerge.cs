using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

/// <summary>
/// The merge formulas written out independently with plain loops, one element at a time, in float32 and in the
/// documented order (models in list order), so results compare bit for bit with the streaming merger.
/// </summary>
internal static class ReferenceMerge
{
    public sealed record Settings(Sparsification Sparsification, bool SignConsensus, bool Normalize, float[] Weights, double[] Densities,
        GroupLambdas Lambda, ulong Seed = 0);

    public static float[] Tensor(string name, float[] anchor, float[] reference, float[][] models, Settings settings)
    {
        int n = anchor.Length;
        var weighted = new float[models.Length][];
        for (int i = 0; i < models.Length; i++)
        {
            var taskVector = new float[n];
            for (int e = 0; e < n; e++) taskVector[e] = models[i][e] - reference[e];
            taskVector = settings.Sparsification switch
            {
                Sparsification.Trim => Trim(taskVector, settings.Densities[i]),
                Sparsification.Dare => Dare(taskVector, settings.Densities[i], DropAndRescale.Stream(settings.Seed, i, name)),
                _ => taskVector,
            };
            for (int e = 0; e < n; e++) taskVector[e] *= settings.Weights[i];
            weighted[i] = taskVector;
        }

        float lambda = settings.Lambda.For(name);
        var merged = new float[n];
        for (int e = 0; e < n; e++)
        {
            int elected = 0;
            if (settings.SignConsensus)
            {
                float total = 0f;
                for (int i = 0; i < models.Length; i++) total += weighted[i][e];
                elected = total >= 0 ? 1 : -1;
            }
            float sum = 0f, contributing = 0f;
            for (int i = 0; i < models.Length; i++)
            {
                if (settings.SignConsensus && Math.Sign(weighted[i][e]) != elected) continue;
                sum += weighted[i][e];
                contributing += settings.Weights[i];
            }
            float mixed = settings.Normalize ? sum / (Math.Abs(contributing) < 1e-8f ? 1f : contributing) : sum;
            merged[e] = anchor[e] + lambda * mixed;
        }
        return merged;
    }

    /// <summary>Keeps round(density·n) elements of largest |x|, equal magnitudes in index order: a full stable sort.</summary>
    public static float[] Trim(float[] values, double density)
    {
        int keep = (int)Math.Round(density * values.Length, MidpointRounding.ToEven);
        var order = Enumerable.Range(0, values.Length).OrderByDescending(i => Math.Abs(values[i])).ThenBy(i => i).ToArray();
        var result = new float[values.Length];
        foreach (int i in order.Take(keep)) result[i] = values[i];
        return result;
    }

    /// <summary>Keeps x/density where the next 53-bit uniform of the stream is below density.</summary>
    public static float[] Dare(float[] values, double density, ulong stream)
    {
        var random = new SplitMix64(stream);
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double uniform = (random.NextUInt64() >> 11) / (double)(1UL << 53);
            result[i] = uniform < density ? values[i] / (float)density : 0f;
        }
        return result;
    }
}
