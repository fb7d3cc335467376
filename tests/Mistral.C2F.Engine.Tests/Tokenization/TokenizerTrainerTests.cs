using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>The trainer on corpora other than the built-in one: determinism, merge rules, size limits.</summary>
[Trait("Backend", "cpu")]
public sealed class TokenizerTrainerTests
{
    [Fact]
    public void Same_corpus_and_size_give_the_same_pieces()
    {
        var random = new RandomText();
        var corpus = string.Join("\n", Enumerable.Range(0, 200).Select(_ => random.PrintableAscii(50)));
        var first = TokenizerTrainer.Train(corpus, 420);
        Assert.True(first.SequenceEqual(TokenizerTrainer.Train(corpus, 420)), $"seed {random.Seed}");
        Assert.Equal(420, first.Count);
    }

    [Fact]
    public void Merges_keep_digits_single_and_never_join_letters_with_punctuation()
    {
        var random = new RandomText();
        var corpus = string.Join("\n", Enumerable.Range(0, 300).Select(_ => random.PrintableAscii(60)));
        var merged = TokenizerTrainer.Train(corpus, 500).Skip(TokenizerTrainer.BaseVocabularySize).Select(p => p.Piece).ToArray();
        foreach (var piece in merged)
        {
            var body = piece.TrimStart('▁');
            Assert.True(!body.Any(char.IsAsciiDigit) && !body.Contains('▁') && piece.Length <= MergeRules.MaxPieceLength,
                $"seed {random.Seed}: piece '{piece}'");
            Assert.True(body.Length == 0 || body.All(char.IsAsciiLetter) || !body.Any(char.IsAsciiLetter), $"seed {random.Seed}: piece '{piece}'");
        }
    }

    [Fact]
    public void Vocabulary_sizes_outside_what_the_corpus_supports_are_clear_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenizerTrainer.Train("some text", TokenizerTrainer.BaseVocabularySize - 1));
        Assert.Equal(TokenizerTrainer.BaseVocabularySize, TokenizerTrainer.Train("", TokenizerTrainer.BaseVocabularySize).Count);
        var error = Assert.Throws<InvalidOperationException>(() => TokenizerTrainer.Train("the cat sat", 2048));
        Assert.Contains("2048", error.Message);
    }
}
