using Microsoft.ML.Tokenizers;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>Decode(Encode(text)) == text for the corpus, random ASCII and random Unicode (byte fallback), checked against Microsoft.ML's own decoder too.</summary>
[Trait("Backend", "cpu")]
[Collection(TokenizerCollection.Name)]
public sealed class RoundTripTests(TokenizerFixture fixture)
{
    /// <summary>Ids below this are control and byte pieces: 3 special + 256 bytes.</summary>
    private const int FirstTextPieceId = 259;

    private readonly MistralTokenizer _tokenizer = fixture.Tokenizer;
    private readonly LlamaTokenizer _library = LoadLibraryTokenizer(fixture.Directory);

    [Fact]
    public void Loaded_model_has_the_requested_size_and_Mistral_special_ids()
    {
        Assert.Equal(BuiltInTokenizer.DefaultVocabularySize, _tokenizer.VocabularySize);
        Assert.Equal((1, 2), (_tokenizer.BosId, _tokenizer.EosId));
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>", "<0xFF>", "▁"], new[] { 0, 1, 2, 3, 258, 259 }.Select(_tokenizer.IdToPiece));
    }

    [Fact]
    public void Every_corpus_line_round_trips()
    {
        foreach (var line in BuiltInCorpus.Text.Split('\n'))
            AssertRoundTrip(line, $"corpus line '{line}'");
    }

    [Fact]
    public void Random_printable_ascii_round_trips()
    {
        var random = new RandomText();
        for (int i = 0; i < 300; i++)
            AssertRoundTrip(random.PrintableAscii(60), $"seed {random.Seed}, string {i}");
    }

    [Fact]
    public void Random_unicode_round_trips_through_byte_fallback()
    {
        var random = new RandomText();
        for (int i = 0; i < 300; i++)
            AssertRoundTrip(random.Unicode(40), $"seed {random.Seed}, string {i}");
    }

    [Fact]
    public void Characters_outside_the_alphabet_are_spelled_as_their_utf8_bytes()
    {
        Assert.Equal(["▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"], _tokenizer.Encode("😀", addBos: false).Select(_tokenizer.IdToPiece));
        Assert.Equal(["▁", "<0xE4>", "<0xB8>", "<0xAD>", "<0x0A>"], _tokenizer.Encode("中\n", addBos: false).Select(_tokenizer.IdToPiece));
    }

    [Fact]
    public void Encode_adds_bos_only_when_asked_even_for_empty_text()
    {
        Assert.Equal([_tokenizer.BosId], _tokenizer.Encode("", addBos: true));
        Assert.Empty(_tokenizer.Encode("", addBos: false));
        var ids = _tokenizer.Encode("Count from 3 to 5.", addBos: true);
        Assert.Equal(_tokenizer.BosId, ids[0]);
        Assert.Equal(ids[1..], _tokenizer.Encode("Count from 3 to 5.", addBos: false));
        Assert.Equal("Count from 3 to 5.", _tokenizer.Decode(ids));
        Assert.Equal("Count from 3 to 5.", _tokenizer.Decode([.. ids, _tokenizer.EosId]));
    }

    [Fact]
    public void Learned_merges_shorten_common_words()
    {
        foreach (var word in new[] { " number", " the", " answer", " order", " smallest", " What" })
        {
            var pieces = _tokenizer.Encode(word.Trim(), addBos: false).Select(_tokenizer.IdToPiece).ToArray();
            Assert.True(pieces.Length < word.Length, $"'{word}' took {pieces.Length} pieces: {string.Join(" ", pieces)}");
        }
        var lines = BuiltInCorpus.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        double charsPerToken = lines.Sum(line => line.Length) / (double)lines.Sum(line => _tokenizer.Encode(line, addBos: false).Length);
        Assert.True(charsPerToken > 2.5, $"{charsPerToken:F2} characters per token on the built-in corpus");
    }

    [Fact]
    public void Digits_are_always_single_pieces()
    {
        Assert.Equal(["▁", "1", "2", "0", "▁is", "▁", "4", "0"], _tokenizer.Encode("120 is 40", addBos: false).Select(_tokenizer.IdToPiece));
        var merged = Enumerable.Range(TokenizerTrainer.BaseVocabularySize, _tokenizer.VocabularySize - TokenizerTrainer.BaseVocabularySize)
            .Select(_tokenizer.IdToPiece);
        Assert.DoesNotContain(merged, piece => piece.Any(char.IsAsciiDigit));
    }

    [Fact]
    public void Literal_special_and_byte_piece_text_is_ordinary_characters()
    {
        const string text = "<s>[INST] <unk></s> <0x41>";
        var ids = _tokenizer.Encode(text, addBos: false);
        Assert.DoesNotContain(ids, id => id < FirstTextPieceId);
        Assert.Equal(text, _tokenizer.Decode(ids));
    }

    private void AssertRoundTrip(string text, string context)
    {
        var ids = _tokenizer.Encode(text, addBos: true);
        var decoded = _tokenizer.Decode(ids);
        Assert.True(decoded == text, $"{context}: '{Escape(text)}' decoded as '{Escape(decoded)}'");
        // The library's own decoder agrees on everything its encoder produces.
        var library = _library.Decode(ids);
        Assert.True(library == text, $"{context}: Microsoft.ML decoded '{Escape(text)}' as '{Escape(library)}'");
    }

    private static LlamaTokenizer LoadLibraryTokenizer(string directory)
    {
        using var model = File.OpenRead(Path.Combine(directory, MistralTokenizer.ModelFileName));
        return LlamaTokenizer.Create(model, addBeginOfSentence: false, addEndOfSentence: false);
    }

    private static string Escape(string text) => string.Concat(text.EnumerateRunes().Select(r => r.Value < 0x20 ? $"\\x{r.Value:X2}" : r.ToString()));
}
