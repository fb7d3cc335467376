using Mistral.C2F.Rlhf.Data;

namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Endless batches of packed sequences from an epoch-shuffled stream (<see cref="ShuffledEpochs{T}"/>); the
/// <see cref="Position"/> is the whole state, so a loader built from a saved position resumes exactly.
/// </summary>
public sealed class SftDataLoader : IDataStream
{
    private readonly ShuffledEpochs<PackedSequence> _sequences;

    public SftDataLoader(IReadOnlyList<PackedSequence> sequences, int batchSize, int seed)
        : this(sequences, batchSize, DataPosition.Start(seed))
    {
    }

    public SftDataLoader(IReadOnlyList<PackedSequence> sequences, int batchSize, DataPosition position)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (sequences.Count > 0 && sequences.FirstOrDefault(sequence => sequence.Length != sequences[0].Length) is { } other)
            throw new ArgumentException($"Sequences differ in length: {sequences[0].Length} and {other.Length}.", nameof(sequences));
        _sequences = new ShuffledEpochs<PackedSequence>(sequences, position);
        SequenceLength = sequences[0].Length;
        BatchSize = batchSize;
    }

    public int BatchSize { get; }
    public int SequenceLength { get; }
    public int SequenceCount => _sequences.Count;

    /// <summary>Where the next batch starts.</summary>
    public DataPosition Position => _sequences.Position;

    public double Epochs => _sequences.Epochs;

    public SftBatch NextBatch()
    {
        var tokens = new int[BatchSize * SequenceLength];
        var targets = new int[BatchSize * SequenceLength];
        int lossTokens = 0;
        for (int row = 0; row < BatchSize; row++)
        {
            var sequence = _sequences.Next();
            sequence.Inputs.CopyTo(tokens, row * SequenceLength);
            sequence.Targets.CopyTo(targets, row * SequenceLength);
            lossTokens += sequence.LossTokenCount;
        }
        return new SftBatch(BatchSize, SequenceLength, tokens, targets, lossTokens);
    }
}
