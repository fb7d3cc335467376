using System.Text;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>Streaming decode: pieces pushed one id at a time concatenate to the whole decode, with SentencePiece's byte and space rules.</summary>
[Trait("Backend", "cpu")]
[Collection(TokenizerCollection.Name)]
public sealed class TokenStreamDecoderTests(TokenizerFixture fixture)
{
    private readonly MistralTokenizer _tokenizer = fixture.Tokenizer;

    [Fact]
    public void Streamed_pieces_concatenate_to_the_whole_decode_for_random_ids()
    {
        var random = new RandomText();
        for (int sequence = 0; sequence < 200; sequence++)
        {
            // Mostly byte pieces (ids 3..258), so multi-byte characters, broken ones and control ids interleave.
            var ids = Enumerable.Range(0, random.Random.Next(1, 40))
                .Select(_ => random.Random.Next(3) == 0 ? random.Random.Next(_tokenizer.VocabularySize) : random.Random.Next(3, 259))
                .ToArray();
            var (streamed, chunks) = Stream(ids);
            var whole = _tokenizer.Decode(ids);
            Assert.True(streamed == whole, $"seed {random.Seed}, ids [{string.Join(", ", ids)}]: streamed '{streamed}', whole '{whole}'");
            Assert.All(chunks, chunk => Assert.True(IsWellFormed(chunk), $"seed {random.Seed}: chunk splits a surrogate pair"));
        }
    }

    [Fact]
    public void Streaming_encoded_random_text_gives_the_text_back()
    {
        var random = new RandomText();
        for (int i = 0; i < 200; i++)
        {
            var text = random.Unicode(30);
            var (streamed, _) = Stream(_tokenizer.Encode(text, addBos: true));
            Assert.True(streamed == text, $"seed {random.Seed}: '{text}' streamed as '{streamed}'");
        }
    }

    [Fact]
    public void A_character_split_over_byte_pieces_comes_out_with_its_last_byte()
    {
        var ids = _tokenizer.Encode("a😀b", addBos: false);
        Assert.Equal(["▁a", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "b"], ids.Select(_tokenizer.IdToPiece));
        var decoder = _tokenizer.CreateStreamDecoder();
        Assert.Equal(["a", "", "", "", "😀", "b"], ids.Select(decoder.Push));
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void Unfinished_or_invalid_bytes_become_one_replacement_character_each()
    {
        int Byte(int value) => 3 + value;
        int eos = _tokenizer.EosId;
        Assert.Equal("\uFFFD\uFFFD", _tokenizer.Decode([Byte(0xE2), Byte(0x82)]));
        // EOS ends the byte run: "€" split by it is three broken bytes, not one character.
        Assert.Equal("\uFFFD\uFFFD\uFFFD", _tokenizer.Decode([Byte(0xE2), Byte(0x82), eos, Byte(0xAC)]));
        Assert.Equal("\uFFFDA€", _tokenizer.Decode([Byte(0x80), Byte(0x41), Byte(0xE2), Byte(0x82), Byte(0xAC)]));
        var decoder = _tokenizer.CreateStreamDecoder();
        Assert.Equal("", decoder.Push(Byte(0xE2)));
        Assert.Equal("\uFFFD", decoder.Flush());
    }

    [Fact]
    public void Only_the_first_text_piece_loses_its_dummy_prefix_space()
    {
        int Piece(string piece) => Enumerable.Range(0, _tokenizer.VocabularySize).First(id => _tokenizer.IdToPiece(id) == piece);
        var (space, theWord, newline) = (Piece("▁"), Piece("▁the"), Piece("<0x0A>"));
        Assert.Equal("the the", _tokenizer.Decode([theWord, theWord]));
        Assert.Equal("the", _tokenizer.Decode([_tokenizer.BosId, theWord, _tokenizer.EosId]));
        Assert.Equal(" the", _tokenizer.Decode([space, theWord]));
        Assert.Equal("\n the", _tokenizer.Decode([newline, theWord]));
        var decoder = _tokenizer.CreateStreamDecoder();
        Assert.Equal(["", "the", " the"], new[] { _tokenizer.BosId, theWord, theWord }.Select(decoder.Push));
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_rejected()
    {
        var decoder = _tokenizer.CreateStreamDecoder();
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Push(_tokenizer.VocabularySize));
        Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.Decode([-1]));
    }

    private (string Text, List<string> Chunks) Stream(IEnumerable<int> ids)
    {
        var decoder = _tokenizer.CreateStreamDecoder();
        var chunks = ids.Select(decoder.Push).ToList();
        chunks.Add(decoder.Flush());
        return (string.Concat(chunks), chunks);
    }

    private static bool IsWellFormed(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)) == text;
}
