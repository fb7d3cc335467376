using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Tests.Sft.Data;

/// <summary>Packing keeps every token once, shifts targets by one with the masks, splits across boundaries and pads the end.</summary>
[Trait("Backend", "cpu")]
public sealed class SequencePackerTests
{
    private const int NoTarget = PackedSequence.NoTarget;
    private const int Pad = 99;

    /// <summary>BOS, prompt (no loss), response and EOS (loss), with ids that tell the tokens apart.</summary>
    private static TokenizedExample Example(int[] prompt, int[] response) =>
        new([1, .. prompt, .. response, 2], [false, .. prompt.Select(_ => false), .. response.Select(_ => true), true]);

    private static readonly TokenizedExample[] TwoExamples = [Example([10], [11]), Example([20, 21], [22, 23])];

    [Fact]
    public void Examples_are_split_across_sequences_that_share_their_boundary_token()
    {
        // Stream 1 10 11 2 1 20 21 22 23 2: ten tokens, nine targets, exactly three sequences of three.
        var sequences = SequencePacker.Pack(TwoExamples, sequenceLength: 3, padId: Pad);

        Assert.Equal(3, sequences.Count);
        Assert.Equal([1, 10, 11], sequences[0].Inputs);
        Assert.Equal([NoTarget, 11, 2], sequences[0].Targets);
        Assert.Equal([2, 1, 20], sequences[1].Inputs); // the previous sequence's last target is this one's first input
        Assert.Equal([NoTarget, NoTarget, NoTarget], sequences[1].Targets); // a BOS after an EOS and a prompt carry no loss
        Assert.Equal([21, 22, 23], sequences[2].Inputs);
        Assert.Equal([22, 23, 2], sequences[2].Targets);
        Assert.Equal([2, 0, 3], sequences.Select(s => s.LossTokenCount));
    }

    [Fact]
    public void The_last_sequence_is_padded_with_the_pad_input_and_no_targets()
    {
        var sequences = SequencePacker.Pack(TwoExamples, sequenceLength: 4, padId: Pad);

        Assert.Equal(3, sequences.Count);
        Assert.Equal([1, 10, 11, 2], sequences[0].Inputs);
        Assert.Equal([NoTarget, 11, 2, NoTarget], sequences[0].Targets);
        Assert.Equal([1, 20, 21, 22], sequences[1].Inputs);
        Assert.Equal([NoTarget, NoTarget, 22, 23], sequences[1].Targets);
        Assert.Equal([23, Pad, Pad, Pad], sequences[2].Inputs);
        Assert.Equal([2, NoTarget, NoTarget, NoTarget], sequences[2].Targets);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(64)]
    public void Every_token_is_an_input_once_and_a_target_once_in_order(int sequenceLength)
    {
        var random = new Random(sequenceLength);
        int nextId = 3;
        var examples = Enumerable.Range(0, 23).Select(_ => Example(
            Enumerable.Range(0, random.Next(0, 5)).Select(_ => nextId++).ToArray(),
            Enumerable.Range(0, random.Next(1, 9)).Select(_ => nextId++).ToArray())).ToArray();
        var stream = examples.SelectMany(e => e.Ids).ToArray();
        var loss = examples.SelectMany(e => e.LossMask).ToArray();

        var sequences = SequencePacker.Pack(examples, sequenceLength, Pad);

        Assert.All(sequences, s => Assert.Equal(sequenceLength, s.Length));
        Assert.Equal((stream.Length - 1 + sequenceLength - 1) / sequenceLength, sequences.Count);
        var inputs = sequences.SelectMany(s => s.Inputs).ToArray();
        var targets = sequences.SelectMany(s => s.Targets).ToArray();
        int padding = inputs.Length - (stream.Length - 1);
        Assert.Equal(stream[..^1], inputs[..^padding]);
        Assert.All(inputs[^padding..], id => Assert.Equal(Pad, id));
        Assert.Equal(stream.Skip(1).Select((id, i) => loss[i + 1] ? id : NoTarget), targets[..^padding]);
        Assert.All(targets[^padding..], id => Assert.Equal(NoTarget, id));
        Assert.Equal(loss.Count(l => l), sequences.Sum(s => s.LossTokenCount));
    }

    [Fact]
    public void No_examples_pack_into_no_sequences_and_bad_arguments_are_rejected()
    {
        Assert.Empty(SequencePacker.Pack([], sequenceLength: 8, padId: Pad));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequencePacker.Pack([Example([], [5])], sequenceLength: 0, padId: Pad));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequencePacker.Pack([Example([], [5])], sequenceLength: 4, padId: -1));
        Assert.Throws<ArgumentException>(() => new TokenizedExample([1, 2], [true]));
    }
}
