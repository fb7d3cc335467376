using Mistral.C2F.Engine.Determinism;

namespace Mistral.C2F.Rlhf.Data;

/// <summary>
/// An endless stream over a list of items, reshuffled every epoch. Epoch e visits every item once in an order drawn
/// from (seed, e) alone, and epochs follow each other without a gap, so a batch may span two epochs and no item is
/// dropped. The <see cref="Position"/> is the whole state: a stream constructed from a saved position yields exactly
/// the items the original would have yielded next.
/// </summary>
public sealed class ShuffledEpochs<T>
{
    private readonly IReadOnlyList<T> _items;
    private readonly int _seed;
    private int _epoch, _index;
    private int[] _order;

    public ShuffledEpochs(IReadOnlyList<T> items, DataPosition position)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(position);
        if (items.Count == 0) throw new ArgumentException("No items to load.", nameof(items));
        ArgumentOutOfRangeException.ThrowIfNegative(position.Epoch, nameof(position));
        if (position.Index < 0 || position.Index >= items.Count)
            throw new ArgumentOutOfRangeException(nameof(position), position,
                $"The index must lie in [0, {items.Count}): the position belongs to a different data set.");
        _items = items;
        (_epoch, _index, _seed) = (position.Epoch, position.Index, position.Seed);
        _order = EpochShuffle.Order(_seed, _epoch, items.Count);
    }

    public int Count => _items.Count;

    /// <summary>Where the next item comes from.</summary>
    public DataPosition Position => new(_epoch, _index, _seed);

    /// <summary>The fraction of epochs done, for logging.</summary>
    public double Epochs => _epoch + (double)_index / _items.Count;

    public T Next()
    {
        var item = _items[_order[_index]];
        if (++_index == _items.Count)
        {
            (_epoch, _index) = (_epoch + 1, 0);
            _order = EpochShuffle.Order(_seed, _epoch, _items.Count);
        }
        return item;
    }
}

public static class EpochShuffle
{
    /// <summary>The order in which epoch <paramref name="epoch"/> visits <paramref name="count"/> items.</summary>
    public static int[] Order(int seed, int epoch, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = Enumerable.Range(0, count).ToArray();
        // Seed and epoch fill the two halves of the generator's state, so every (seed, epoch) pair has its own stream.
        new SplitMix64(((ulong)(uint)seed << 32) | (uint)epoch).Shuffle(order.AsSpan());
        return order;
    }
}
