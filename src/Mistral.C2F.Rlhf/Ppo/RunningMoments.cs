using System.Text.Json.Serialization;

namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// Mean and variance of every value seen so far, updated a batch at a time by Chan et al.'s parallel combination of
/// (count, mean, sum of squared deviations), which stays exact where a running Σx² would cancel. An immutable value;
/// serialising it is its checkpoint.
/// </summary>
/// <param name="SquaredDeviations">M2 = Σ(x − mean)² over everything seen.</param>
public sealed record RunningMoments(long Count, double Mean, double SquaredDeviations)
{
    /// <summary>Added to the standard deviation when standardising, so a constant stream does not divide by zero.</summary>
    public const double StdEpsilon = 1e-8;

    public static RunningMoments Empty { get; } = new(0, 0, 0);

    /// <summary>Sample (Bessel-corrected) variance, as TRL's RunningMoments; 0 until two values are seen.</summary>
    [JsonIgnore]
    public double Variance => Count > 1 ? SquaredDeviations / (Count - 1) : 0;

    [JsonIgnore]
    public double Std => Math.Sqrt(Variance);

    /// <summary>The moments of everything seen so far and <paramref name="batch"/>.</summary>
    public RunningMoments Add(ReadOnlySpan<double> batch)
    {
        if (batch.IsEmpty) return this;
        double batchMean = 0;
        foreach (var x in batch) batchMean += x;
        batchMean /= batch.Length;
        double batchDeviations = 0;
        foreach (var x in batch) batchDeviations += (x - batchMean) * (x - batchMean);
        long count = Count + batch.Length;
        double delta = batchMean - Mean;
        return new RunningMoments(count, Mean + delta * batch.Length / count,
            SquaredDeviations + batchDeviations + delta * delta * ((double)Count * batch.Length / count));
    }

    /// <summary>(x − mean)/(std + 1e-8) for each value: reward normalisation with the moments as they are (add the batch first, as TRL).</summary>
    public double[] Standardize(ReadOnlySpan<double> values)
    {
        var standardized = new double[values.Length];
        for (int i = 0; i < values.Length; i++) standardized[i] = (values[i] - Mean) / (Std + StdEpsilon);
        return standardized;
    }
}
