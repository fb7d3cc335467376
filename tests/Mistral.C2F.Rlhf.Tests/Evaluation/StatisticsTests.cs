using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

/// <summary>The two statistics the report rests on, on cases worked by hand.</summary>
[Trait("Backend", "cpu")]
public sealed class StatisticsTests
{
    [Fact]
    public void Intervals_use_students_t_with_n_minus_one_degrees_of_freedom()
    {
        // 1, 2, 3: mean 2, s = 1, t(2) = 4.303: 2 ± 4.303/√3.
        var interval = Interval.Of([1, 2, 3]);
        Assert.Equal(2, interval.Mean, 12);
        Assert.Equal(2 - 4.303 / Math.Sqrt(3), interval.Low, 12);
        Assert.Equal(2 + 4.303 / Math.Sqrt(3), interval.High, 12);
        Assert.False(interval.AboveZero); // 2 − 2.484 < 0
        Assert.True(Interval.Of([2, 3, 4]).AboveZero);
        var one = Interval.Of([0.5]);
        Assert.Equal((0.5, double.NegativeInfinity, double.PositiveInfinity), (one.Mean, one.Low, one.High));
        // Past 30 degrees of freedom the normal quantile.
        var many = Interval.Of(Enumerable.Range(0, 40).Select(i => (double)(i % 2)).ToList());
        Assert.Equal(0.5 - 1.96 * Math.Sqrt(40.0 / 4 / 39 / 40), many.Low, 12);
        Assert.Throws<ArgumentException>(() => Interval.Of([]));
    }

    [Fact]
    public void Roc_auc_is_the_chance_a_positive_outscores_a_negative_with_ties_counting_half()
    {
        Assert.Equal(1.0, RocAuc.Compute([0.1, 0.2, 0.8, 0.9], [false, false, true, true]));
        Assert.Equal(0.0, RocAuc.Compute([0.9, 0.8, 0.2, 0.1], [false, false, true, true]));
        // Pairs (positive, negative): (0.5, 0.1) win, (0.5, 0.5) tie, (0.3, 0.1) win, (0.3, 0.5) loss: (2 + 0.5) / 4.
        Assert.Equal(0.625, RocAuc.Compute([0.5, 0.3, 0.1, 0.5], [true, true, false, false]));
        Assert.Null(RocAuc.Compute([0.5, 0.3], [true, true]));
        Assert.Throws<ArgumentException>(() => RocAuc.Compute([0.5], [true, false]));
    }

    [Fact]
    public void Within_groups_only_pairs_of_the_same_group_count()
    {
        // Each group ranks its own pair right; across groups the right answer of the second (2) scores below the wrong answer
        // of the first (9), a pair the plain AUC counts (3 of 4 right) and the within-group one does not.
        double[] scores = [10, 9, 1, 2];
        bool[] positive = [true, false, false, true];
        Assert.Equal(0.75, RocAuc.Compute(scores, positive));
        Assert.Equal(1.0, RocAuc.WithinGroups(scores, positive, groupSize: 2));
        // Ties count half; a group of all-right answers adds no pair; no group with both gives null.
        Assert.Equal(0.5, RocAuc.WithinGroups([3, 3, 9, 9], [true, false, true, true], groupSize: 2));
        Assert.Equal(2.0 / 3, RocAuc.WithinGroups([3, 1, 4, 2], [true, false, false, false], groupSize: 4)!.Value, 15);
        Assert.Null(RocAuc.WithinGroups([1, 2, 3, 4], [true, true, false, false], groupSize: 2));
        Assert.Throws<ArgumentException>(() => RocAuc.WithinGroups([1, 2, 3], [true, false, true], groupSize: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => RocAuc.WithinGroups([1, 2], [true, false], groupSize: 0));
    }
}
