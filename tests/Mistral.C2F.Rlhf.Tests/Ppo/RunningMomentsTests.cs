using System.Text.Json;
using Mistral.C2F.Rlhf.Ppo;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class RunningMomentsTests
{
    [Fact]
    public void Batched_updates_match_a_two_pass_computation_over_everything_seen()
    {
        var random = new Random(29);
        var moments = RunningMoments.Empty;
        var seen = new List<double>();
        foreach (int size in new[] { 1, 7, 1, 64, 3, 250, 2 })
        {
            // A large common offset: a Σx² − n·mean² formula would lose most digits here.
            var batch = Enumerable.Range(0, size).Select(_ => 1e6 + 3 * random.NextDouble()).ToArray();
            moments = moments.Add(batch);
            seen.AddRange(batch);

            double mean = seen.Average();
            double variance = seen.Count > 1 ? seen.Sum(x => (x - mean) * (x - mean)) / (seen.Count - 1) : 0;
            Assert.Equal(seen.Count, moments.Count);
            Assert.Equal(mean, moments.Mean, 1e-9);
            Assert.Equal(variance, moments.Variance, 1e-9);
        }
    }

    [Fact]
    public void Hand_values_and_standardisation()
    {
        // 1, 3 then 2, 2: mean 2, Σ(x − 2)² = 2, sample variance 2/3.
        var moments = RunningMoments.Empty.Add([1.0, 3.0]).Add([2.0, 2.0]);

        Assert.Equal((4L, 2.0, 2.0), (moments.Count, moments.Mean, moments.SquaredDeviations));
        Assert.Equal(Math.Sqrt(2.0 / 3), moments.Std, 1e-15);
        double std = Math.Sqrt(2.0 / 3) + 1e-8;
        Assert.Equal([-1 / std, 0, 2 / std], moments.Standardize([1.0, 2.0, 4.0]));
    }

    [Fact]
    public void Fewer_than_two_values_have_zero_variance_and_an_empty_batch_changes_nothing()
    {
        Assert.Equal(0.0, RunningMoments.Empty.Variance);
        var one = RunningMoments.Empty.Add([5.0]);
        Assert.Equal((1L, 5.0, 0.0), (one.Count, one.Mean, one.Std));
        Assert.Same(one, one.Add([]));
    }

    [Fact]
    public void Moments_round_trip_through_json()
    {
        var moments = RunningMoments.Empty.Add([0.1, 0.7, -3.25]);
        var json = JsonSerializer.Serialize(moments);

        Assert.Equal(moments, JsonSerializer.Deserialize<RunningMoments>(json));
        Assert.DoesNotContain("Std", json); // derived values are not state
    }
}
