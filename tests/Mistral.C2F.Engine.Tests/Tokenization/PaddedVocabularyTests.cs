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
}
