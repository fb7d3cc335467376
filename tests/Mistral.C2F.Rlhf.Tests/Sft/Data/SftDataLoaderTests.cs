using Mistral.C2F.Rlhf.Data;
using System.Text.Json;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Tests.Sft.Data;

/// <summary>Batches are flat rows of shuffled sequences; the order depends on the seed alone; a saved position resumes exactly.</summary>
[Trait("Backend", "cpu")]
public sealed class SftDataLoaderTests
{
    private const int SequenceLength = 3;
    private const int SequenceCount = 10;

    /// <summary>Sequence k has inputs 100k, 100k+1, 100k+2 and a masked first target, so every row tells which sequence it is.</summary>
    private static readonly PackedSequence[] Sequences = Enumerable.Range(0, SequenceCount)
        .Select(k => new PackedSequence([100 * k, 100 * k + 1, 100 * k + 2], [PackedSequence.NoTarget, 100 * k + 2, 100 * k + 3]))
        .ToArray();

    /// <summary>The sequence indices of the next <paramref name="batches"/> batches, row by row.</summary>
    private static int[] Rows(SftDataLoader loader, int batches) =>
        Enumerable.Range(0, batches).SelectMany(_ => loader.NextBatch().Tokens.Where((_, i) => i % SequenceLength == 0)).Select(id => id / 100).ToArray();

    private static void AssertSameBatches(SftBatch expected, SftBatch actual)
    {
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.Targets, actual.Targets);
        Assert.Equal(expected.LossTokenCount, actual.LossTokenCount);
    }

    [Fact]
    public void A_batch_is_its_sequences_row_major_with_their_loss_token_count()
    {
        var loader = new SftDataLoader(Sequences, batchSize: 4, seed: 7);
        var order = EpochShuffle.Order(seed: 7, epoch: 0, SequenceCount);

        var batch = loader.NextBatch();

        Assert.Equal((4, SequenceLength), (batch.BatchSize, batch.SequenceLength));
        Assert.Equal(order[..4].SelectMany(k => Sequences[k].Inputs), batch.Tokens);
        Assert.Equal(order[..4].SelectMany(k => Sequences[k].Targets), batch.Targets);
        Assert.Equal(8, batch.LossTokenCount);
        Assert.Equal(new DataPosition(0, 4, 7), loader.Position);
    }

    [Fact]
    public void Each_epoch_visits_every_sequence_once_and_batches_run_on_across_epochs()
    {
        var loader = new SftDataLoader(Sequences, batchSize: 4, seed: 7);

        var rows = Rows(loader, batches: 10); // 40 rows: four whole epochs, batches straddling their ends

        for (int epoch = 0; epoch < 4; epoch++)
        {
            var visited = rows[(epoch * SequenceCount)..((epoch + 1) * SequenceCount)];
            Assert.Equal(EpochShuffle.Order(seed: 7, epoch, SequenceCount), visited);
            Assert.Equal(Enumerable.Range(0, SequenceCount), visited.Order());
        }
        Assert.Equal(new DataPosition(4, 0, 7), loader.Position);
        Assert.NotEqual(EpochShuffle.Order(7, 0, SequenceCount), EpochShuffle.Order(7, 1, SequenceCount));
    }

    [Fact]
    public void The_same_seed_gives_the_same_order_whatever_the_batch_size()
    {
        var rows = Rows(new SftDataLoader(Sequences, batchSize: 4, seed: 42), batches: 6);

        Assert.Equal(rows, Rows(new SftDataLoader(Sequences, batchSize: 4, seed: 42), batches: 6));
        Assert.Equal(rows, Rows(new SftDataLoader(Sequences, batchSize: 3, seed: 42), batches: 8));
        Assert.Equal(rows, Rows(new SftDataLoader(Sequences, batchSize: 1, seed: 42), batches: 24));
    }

    [Fact]
    public void Different_seeds_give_different_orders()
    {
        var orders = Enumerable.Range(0, 8).Select(seed => EpochShuffle.Order(seed, epoch: 0, count: 1000)).ToArray();

        for (int a = 0; a < orders.Length; a++)
        for (int b = a + 1; b < orders.Length; b++)
            Assert.NotEqual(orders[a], orders[b]);
        Assert.NotEqual(Rows(new SftDataLoader(Sequences, 4, seed: 1), 3), Rows(new SftDataLoader(Sequences, 4, seed: 2), 3));
        Assert.NotEqual(Enumerable.Range(0, 1000), orders[0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void A_loader_restored_from_a_saved_position_yields_the_batches_of_an_uninterrupted_run(int batchesBeforeSave)
    {
        const int batchSize = 4, batchesAfterSave = 9;
        var uninterrupted = new SftDataLoader(Sequences, batchSize, seed: 3);
        var interrupted = new SftDataLoader(Sequences, batchSize, seed: 3);
        for (int i = 0; i < batchesBeforeSave; i++)
        {
            uninterrupted.NextBatch();
            interrupted.NextBatch();
        }

        var saved = JsonSerializer.Serialize(interrupted.Position);
        var restored = new SftDataLoader(Sequences, batchSize, JsonSerializer.Deserialize<DataPosition>(saved)!);

        Assert.Equal(interrupted.Position, restored.Position);
        for (int i = 0; i < batchesAfterSave; i++)
            AssertSameBatches(uninterrupted.NextBatch(), restored.NextBatch());
        Assert.Equal(uninterrupted.Position, restored.Position);
    }

    [Fact]
    public void The_position_serialises_as_small_plain_json()
    {
        var loader = new SftDataLoader(Sequences, batchSize: 4, seed: 5);
        for (int i = 0; i < 3; i++) loader.NextBatch();

        Assert.Equal("""{"Epoch":1,"Index":2,"Seed":5}""", JsonSerializer.Serialize(loader.Position));
    }

    [Fact]
    public void Bad_sequences_batch_sizes_and_positions_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new SftDataLoader([], batchSize: 1, seed: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SftDataLoader(Sequences, batchSize: 0, seed: 0));
        Assert.Throws<ArgumentException>(() => new SftDataLoader([Sequences[0], new PackedSequence([1], [2])], batchSize: 1, seed: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SftDataLoader(Sequences, 1, new DataPosition(0, SequenceCount, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SftDataLoader(Sequences, 1, new DataPosition(0, -1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SftDataLoader(Sequences, 1, new DataPosition(-1, 0, 0)));
    }
}
