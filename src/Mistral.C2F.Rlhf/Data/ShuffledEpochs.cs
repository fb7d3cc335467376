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
    private readonly Func<int, int[], int[]>? _arrange;
    private readonly int _seed;
    private int _epoch, _index;
    private int[] _order;

    /// <param name="arrange">
    /// Given an epoch and its shuffled order, the order to visit instead (<see cref="LengthGroupedOrder"/>): a function of
    /// those two alone, so that a resumed stream rebuilds the same order.
    /// </param>
    public ShuffledEpochs(IReadOnlyList<T> items, DataPosition position, Func<int, int[], int[]>? arrange = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(position);
        if (items.Count == 0) throw new ArgumentException("No items to load.", nameof(items));
        ArgumentOutOfRangeException.ThrowIfNegative(position.Epoch, nameof(position));
        if (position.Index < 0 || position.Index >= items.Count)
            throw new ArgumentOutOfRangeException(nameof(position), position,
                $"The index must lie in [0, {items.Count}): the position belongs to a different data set.");
        _items = items;
        _arrange = arrange;
        (_epoch, _index, _seed) = (position.Epoch, position.Index, position.Seed);
        _order = Order(_epoch);
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
            _order = Order(_epoch);
        }
        return item;
    }

    private int[] Order(int epoch)
    {
        var order = EpochShuffle.Order(_seed, epoch, _items.Count);
        if (_arrange is null) return order;
        var arranged = _arrange(epoch, order);
        if (arranged.Length != order.Length || !arranged.Order().SequenceEqual(Enumerable.Range(0, order.Length)))
            throw new InvalidOperationException($"epoch {epoch}'s arranged order does not visit each of the {order.Length} items once");
        return arranged;
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
        new SplitMix64(State(seed, epoch)).Shuffle(order.AsSpan());
        return order;
    }

    /// <summary>Seed and epoch fill the two halves of the generator's state, so every (seed, epoch) pair has its own stream.</summary>
    public static ulong State(int seed, int epoch) => ((ulong)(uint)seed << 32) | (uint)epoch;
}
