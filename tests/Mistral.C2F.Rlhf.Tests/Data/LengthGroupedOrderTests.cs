using Mistral.C2F.Rlhf.Data;

namespace Mistral.C2F.Rlhf.Tests.Data;

/// <summary>Grouping by length: every item once, batches of similar length, no fixed order of lengths, the same order again from the same state.</summary>
[Trait("Backend", "cpu")]
public sealed class LengthGroupedOrderTests
{
    private const int BatchSize = 4;

    private static (int[] Order, int[] Lengths) Epoch(int count, int seed)
    {
        var random = new Random(seed);
        var lengths = Enumerable.Range(0, count).Select(_ => random.Next(5, 90)).ToArray();
        return (EpochShuffle.Order(seed, epoch: 0, count), lengths);
    }

    /// <summary>Real tokens over padded tokens when every batch pads to its longest item.</summary>
    private static double RealShare(int[] order, int[] lengths) =>
        order.Chunk(BatchSize).Sum(b => b.Sum(i => (double)lengths[i])) / order.Chunk(BatchSize).Sum(b => b.Length * (double)b.Max(i => lengths[i]));

    [Theory]
    [InlineData(3 * BatchSize * LengthGroupedOrder.BatchesPerGroup)]
    [InlineData(2 * BatchSize * LengthGroupedOrder.BatchesPerGroup + 7)]
    [InlineData(5)]
    public void Every_item_comes_once_and_batches_pad_less(int count)
    {
        var (order, lengths) = Epoch(count, seed: 3);

        var arranged = LengthGroupedOrder.Arrange(order, lengths, BatchSize, shuffleState: 11);

        Assert.Equal(Enumerable.Range(0, count), arranged.Order());
        if (count > BatchSize) Assert.True(RealShare(arranged, lengths) > RealShare(order, lengths), $"{RealShare(arranged, lengths)} vs {RealShare(order, lengths)}");
    }

    [Fact]
    public void Within_a_group_batches_hold_neighbouring_lengths_in_shuffled_order()
    {
        int groupItems = BatchSize * LengthGroupedOrder.BatchesPerGroup;
        var (order, lengths) = Epoch(groupItems, seed: 5);

        var batches = LengthGroupedOrder.Arrange(order, lengths, BatchSize, shuffleState: 11).Chunk(BatchSize)
            .Select(b => (Min: b.Min(i => lengths[i]), Max: b.Max(i => lengths[i]))).ToArray();

        // Sorted by their longest item, each batch's shortest is at least as long as the next shorter batch's longest.
        var byLength = batches.OrderBy(b => b.Max).ThenBy(b => b.Min).ToArray();
        for (int k = 1; k < byLength.Length; k++) Assert.True(byLength[k].Min >= byLength[k - 1].Max, $"batch {k}: {byLength[k]} after {byLength[k - 1]}");
        // The batches do not come longest first: the group's order is shuffled.
        Assert.NotEqual(batches.Select(b => b.Max).OrderByDescending(m => m), batches.Select(b => b.Max));
    }

    [Fact]
    public void The_same_state_gives_the_same_order_and_another_state_another()
    {
        var (order, lengths) = Epoch(2 * BatchSize * LengthGroupedOrder.BatchesPerGroup, seed: 7);

        Assert.Equal(LengthGroupedOrder.Arrange(order, lengths, BatchSize, 1), LengthGroupedOrder.Arrange(order, lengths, BatchSize, 1));
        Assert.NotEqual(LengthGroupedOrder.Arrange(order, lengths, BatchSize, 1), LengthGroupedOrder.Arrange(order, lengths, BatchSize, 2));
    }

    [Fact]
    public void An_arrangement_that_drops_or_repeats_an_item_is_refused()
    {
        var items = Enumerable.Range(0, 6).ToArray();

        var error = Assert.Throws<InvalidOperationException>(() => new ShuffledEpochs<int>(items, new DataPosition(0, 0, 1), (_, order) => [.. order[..5], order[0]]));
        Assert.Contains("each of the 6 items once", error.Message);
    }
}
