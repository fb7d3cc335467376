using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.RewardModel.Data;

/// <summary>
/// Tokenized preference pairs in epoch-shuffled, resumable batches; with <c>groupByLength</c> a batch holds pairs of
/// similar length (<see cref="LengthGroupedOrder"/>), since every row is padded to the batch's longest.
/// </summary>
public sealed class PreferenceLoader : IDataStream
{
    private readonly ShuffledEpochs<(int[] Chosen, int[] Rejected, double Margin)> _pairs;
    private readonly int _padId;

    public PreferenceLoader(IReadOnlyList<PreferencePair> pairs, MistralTokenizer tokenizer, int pairsPerBatch, int maxLength, DataPosition position,
        bool groupByLength = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pairsPerBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        var encoder = new SftExampleTokenizer(tokenizer);
        int[] Encode(string prompt, string response, int index)
        {
            var ids = encoder.Tokenize(new PromptResponseExample(prompt, response)).Ids;
            return ids.Length <= maxLength ? ids
                : throw new InvalidDataException($"preference pair {index}: {ids.Length} tokens exceed the maximum length {maxLength}");
        }
        var encoded = pairs.Select((p, i) => (Chosen: Encode(p.Prompt, p.Chosen, i), Rejected: Encode(p.Prompt, p.Rejected, i), p.Margin)).ToList();
        var lengths = encoded.Select(p => Math.Max(p.Chosen.Length, p.Rejected.Length)).ToArray();
        _pairs = new ShuffledEpochs<(int[], int[], double)>(encoded, position, groupByLength
            ? (epoch, order) => LengthGroupedOrder.Arrange(order, lengths, pairsPerBatch, ~EpochShuffle.State(position.Seed, epoch))
            : null);
        (PairsPerBatch, _padId) = (pairsPerBatch, tokenizer.EosId);
    }

    public int PairsPerBatch { get; }
    public DataPosition Position => _pairs.Position;
    public double Epochs => _pairs.Epochs;

    public PreferenceBatch NextBatch()
    {
        var pairs = Enumerable.Range(0, PairsPerBatch).Select(_ => _pairs.Next()).ToList();
        var rows = pairs.Select(p => p.Chosen).Concat(pairs.Select(p => p.Rejected)).ToList();
        int length = rows.Max(r => r.Length);
        var (tokens, positions) = (new int[rows.Count * length], new int[rows.Count * length]);
        Array.Fill(tokens, _padId);
        Array.Fill(positions, -1);
        var last = new int[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            rows[r].CopyTo(tokens, r * length);
            for (int i = 0; i < rows[r].Length; i++) positions[r * length + i] = i;
            last[r] = r * length + rows[r].Length - 1;
        }
        return new PreferenceBatch(PairsPerBatch, length, tokens, positions, last, pairs.Select(p => p.Margin).ToArray());
    }
}
