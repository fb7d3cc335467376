using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

/// <summary>The per-tensor pipeline on hand-made task vectors (base zero, so models are their task vectors).</summary>
[Trait("Backend", "cpu")]
public sealed class TaskVectorMergeTests
{
    private const string Name = "model.layers.0.mlp.up_proj.weight";

    // Columns are elements. Element 4 sums to zero (elected +); element 5 has two agreeing entries.
    private static readonly float[][] Models =
    [
        [2, -1, 3, 0, 1, 3],
        [-1, -2, 1, 4, -1, 1],
        [0, 4, -5, -1, 0, -2],
    ];

    private static float[] Merge(bool normalize, float[] weights, GroupLambdas? lambda = null, float[]? anchor = null)
    {
        var merge = new TaskVectorMerge(Sparsification.None, signConsensus: true, normalize,
            weights.Select(w => (w, 1.0)).ToArray(), lambda ?? new GroupLambdas(), seed: 0);
        var output = new float[6];
        merge.Merge(Name, anchor ?? new float[6], new float[6], Models.Select(m => m.ToArray()).ToArray(), output);
        return output;
    }

    [Fact]
    public void Ties_elects_the_sign_of_the_summed_mass_and_averages_the_agreeing_entries()
    {
        // Sums: 1, 1, -1, 3, 0, 2 → signs +, +, −, +, +, +. Agreeing entries: {2}, {4}, {−5}, {4}, {1}, {3, 1}.
        Assert.Equal([2, 4, -5, 4, 1, 2], Merge(normalize: true, weights: [1, 1, 1]));
        Assert.Equal([2, 4, -5, 4, 1, 4], Merge(normalize: false, weights: [1, 1, 1]));
    }

    [Fact]
    public void Weights_take_part_in_the_election_and_in_the_mean()
    {
        // Weighted entries, weights 3, 1, 1: column 0 → 6, −1, 0 (sum 5, +); column 2 → 9, 1, −5 (sum 5, +);
        // column 5 → 9, 1, −2 (+): disjoint mean (9 + 1) / (3 + 1).
        var merged = Merge(normalize: true, weights: [3, 1, 1]);
        Assert.Equal(6f / 3, merged[0]);
        Assert.Equal((9f + 1f) / 4, merged[2]);
        Assert.Equal((9f + 1f) / 4, merged[5]);
    }

    [Fact]
    public void Lambda_scales_the_merged_vector_before_it_is_added_to_the_anchor()
    {
        var merged = Merge(normalize: true, weights: [1, 1, 1], new GroupLambdas(Mlp: 0.5f), anchor: [10, 10, 10, 10, 10, 10]);
        Assert.Equal([11, 12, 7.5f, 12, 10.5f, 11], merged);
    }

    [Fact]
    public void Without_sign_consensus_every_entry_counts_and_normalising_divides_by_the_weight_sum()
    {
        var merge = new TaskVectorMerge(Sparsification.None, signConsensus: false, normalize: true, [(1f, 1.0), (3f, 1.0)], new GroupLambdas(), 0);
        var output = new float[2];
        merge.Merge(Name, new float[2], [1, 1], [[3, 1], [-1, 5]], output);
        // Task vectors (2, 0) and (−2, 4); weighted (2, 0) + (−6, 12) = (−4, 12); divided by 4.
        Assert.Equal([-1, 3], output);
    }
}
