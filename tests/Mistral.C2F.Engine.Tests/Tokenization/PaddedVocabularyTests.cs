using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

[Trait("Backend", "cpu")]
public sealed class PaddedVocabularyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("c2f-padded-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_model_vocabulary_larger_than_the_trained_one_gets_unused_pieces_that_encoding_never_emits()
    {
        BuiltInTokenizer.Write(_directory, vocabularySize: 32000);
        var tokenizer = MistralTokenizer.Load(_directory);
        Assert.Equal(32000, tokenizer.VocabularySize);

        var text = string.Join(" ", BuiltInCorpus.Text.Split('\n').Take(40));
        var ids = tokenizer.Encode(text, addBos: true);
        Assert.All(ids, id => Assert.InRange(id, 0, BuiltInTokenizer.DefaultVocabularySize - 1));
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal("<unused31999>", tokenizer.IdToPiece(31999));
    }

    [Fact]
    public void A_continuation_keeps_the_space_that_starts_its_first_word()
    {
        BuiltInTokenizer.Write(_directory);
        var tokenizer = MistralTokenizer.Load(_directory);
        var prompt = tokenizer.Encode("Add 12 and 7.", addBos: true);
        var whole = tokenizer.Encode("Add 12 and 7. The sum is 19", addBos: true);
        Assert.Equal(prompt, whole.Take(prompt.Length));
        var generated = whole.Skip(prompt.Length).ToArray();
        Assert.Equal(" The sum is 19", tokenizer.Decode(generated, continuation: true));
        Assert.Equal("The sum is 19", tokenizer.Decode(generated));
    }
}
