using Mistral.C2F.Engine.Determinism;
namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Endless batches of packed sequences, reshuffled every epoch. Epoch e visits every sequence once in an order drawn
/// from (seed, e) alone; the epochs form one stream, and each batch takes the next <c>batchSize</c> sequences of it, so
/// a batch may span two epochs and no sequence is dropped. The <see cref="Position"/> is the whole state: a loader
/// constructed from a saved position yields exactly the batches the original would have yielded next.
/// </summary>
public sealed class SftDataLoader
{
    private readonly IReadOnlyList<PackedSequence> _sequences;
    private readonly int _seed;
    private int _epoch;
    private int _index;
    private int[] _order;

    public SftDataLoader(IReadOnlyList<PackedSequence> sequences, int batchSize, int seed)
        : this(sequences, batchSize, SftLoaderPosition.Start(seed))
    {
    }

    public SftDataLoader(IReadOnlyList<PackedSequence> sequences, int batchSize, SftLoaderPosition position)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(position);
        if (sequences.Count == 0) throw new ArgumentException("No sequences to load.", nameof(sequences));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        SequenceLength = sequences[0].Length;
        if (sequences.FirstOrDefault(sequence => sequence.Length != SequenceLength) is { } other)
            throw new ArgumentException($"Sequences differ in length: {SequenceLength} and {other.Length}.", nameof(sequences));
        ArgumentOutOfRangeException.ThrowIfNegative(position.Epoch, nameof(position));
        if (position.Index < 0 || position.Index >= sequences.Count)
            throw new ArgumentOutOfRangeException(nameof(position), position,
                $"The index must lie in [0, {sequences.Count}): the position belongs to a different data set.");

        _sequences = sequences;
        BatchSize = batchSize;
        (_epoch, _index, _seed) = (position.Epoch, position.Index, position.Seed);
        _order = EpochOrder(_seed, _epoch, sequences.Count);
    }

    public int BatchSize { get; }
    public int SequenceLength { get; }
    public int SequenceCount => _sequences.Count;

    /// <summary>Where the next batch starts.</summary>
    public SftLoaderPosition Position => new(_epoch, _index, _seed);

    public SftBatch NextBatch()
    {
        var tokens = new int[BatchSize * SequenceLength];
        var targets = new int[BatchSize * SequenceLength];
        int lossTokens = 0;
        for (int row = 0; row < BatchSize; row++)
        {
            var sequence = _sequences[_order[_index]];
            sequence.Inputs.CopyTo(tokens, row * SequenceLength);
            sequence.Targets.CopyTo(targets, row * SequenceLength);
            lossTokens += sequence.LossTokenCount;
            if (++_index < _sequences.Count) continue;
            (_epoch, _index) = (_epoch + 1, 0);
            _order = EpochOrder(_seed, _epoch, _sequences.Count);
        }
        return new SftBatch(BatchSize, SequenceLength, tokens, targets, lossTokens);
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits <paramref name="count"/> sequences.</summary>
    public static int[] EpochOrder(int seed, int epoch, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = Enumerable.Range(0, count).ToArray();
        // Seed and epoch fill the two halves of the generator's state, so every (seed, epoch) pair has its own stream.
        new SplitMix64(((ulong)(uint)seed << 32) | (uint)epoch).Shuffle(order.AsSpan());
        return order;
    }
}
