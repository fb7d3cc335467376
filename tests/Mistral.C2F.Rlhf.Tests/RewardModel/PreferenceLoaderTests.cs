using System.Text.RegularExpressions;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.RewardModel;

/// <summary>Preference batches grouped by length: less padding, every pair once an epoch, and a saved position resumes them exactly.</summary>
[Trait("Backend", "cpu")]
public sealed class PreferenceLoaderTests : IDisposable
{
    private const int PairsPerBatch = 4;
    private readonly TemporaryDirectory _directory = new();
    private readonly MistralTokenizer _tokenizer;

    public PreferenceLoaderTests() => _tokenizer = MistralTokenizer.Load(TinyCheckpoint.Write(Path.Combine(_directory.Path, "model")));

    public void Dispose() => _directory.Dispose();

    /// <summary>Pairs whose answers run from a few characters to a few dozen, each pair's index in its prompt.</summary>
    private static List<PreferencePair> Pairs(int count)
    {
        var random = new Random(9);
        return Enumerable.Range(0, count).Select(i =>
            new PreferencePair($"Pair {i}.", new string('a', random.Next(1, 40)), new string('b', random.Next(1, 40)))).ToList();
    }

    private PreferenceLoader Loader(List<PreferencePair> pairs, DataPosition position, bool grouped) =>
        new(pairs, _tokenizer, PairsPerBatch, maxLength: 64, position, grouped);

    private static double RealShare(IEnumerable<PreferenceBatch> batches)
    {
        var list = batches.ToList();
        return list.Sum(b => b.Positions.Count(p => p >= 0)) / (double)list.Sum(b => b.Positions.Length);
    }

    [Fact]
    public void Grouped_batches_pad_less_and_hold_every_pair_once_an_epoch()
    {
        var pairs = Pairs(3 * PairsPerBatch * LengthGroupedOrder.BatchesPerGroup);
        int batches = pairs.Count / PairsPerBatch;
        var plain = Loader(pairs, DataPosition.Start(2), grouped: false);
        var grouped = Loader(pairs, DataPosition.Start(2), grouped: true);

        var plainBatches = Enumerable.Range(0, batches).Select(_ => plain.NextBatch()).ToList();
        var groupedBatches = Enumerable.Range(0, batches).Select(_ => grouped.NextBatch()).ToList();

        Assert.True(RealShare(groupedBatches) > RealShare(plainBatches) + 0.1, $"real tokens {RealShare(groupedBatches):P1} grouped, {RealShare(plainBatches):P1} not");
        Assert.Equal(1.0, grouped.Epochs);
        // A chosen row starts BOS, "Pair", the index: decode each batch's chosen rows and collect the indices seen.
        var seen = groupedBatches.SelectMany(b => Enumerable.Range(0, b.Pairs).Select(r => _tokenizer.Decode(b.Tokens.Skip(r * b.Length).Take(b.Length).ToArray())))
            .Select(text => int.Parse(Regex.Match(text, @"Pair (\d+)\.").Groups[1].Value)).Order();
        Assert.Equal(Enumerable.Range(0, pairs.Count), seen);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(200)]
    public void A_loader_restored_from_a_saved_position_yields_the_batches_of_an_uninterrupted_run(int batchesBeforeSave)
    {
        var pairs = Pairs(2 * PairsPerBatch * LengthGroupedOrder.BatchesPerGroup + 6);
        var uninterrupted = Loader(pairs, DataPosition.Start(4), grouped: true);
        for (int b = 0; b < batchesBeforeSave; b++) uninterrupted.NextBatch();

        var restored = Loader(pairs, uninterrupted.Position, grouped: true);

        for (int b = 0; b < 40; b++)
        {
            var (expected, actual) = (uninterrupted.NextBatch(), restored.NextBatch());
            Assert.Equal(expected.Tokens, actual.Tokens);
            Assert.Equal(expected.LastTokens, actual.LastTokens);
        }
    }
}
