using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>The files BuiltInTokenizer writes: a tokenizer.model with Mistral's settings, Hugging Face JSON, byte-identical reruns.</summary>
[Trait("Backend", "cpu")]
[Collection(TokenizerCollection.Name)]
public sealed class TokenizerFilesTests(TokenizerFixture fixture)
{
    [Fact]
    public void Model_proto_carries_the_Mistral_trainer_and_normalizer_settings()
    {
        var model = LibraryModelProto.Parse(File.ReadAllBytes(Path.Combine(fixture.Directory, MistralTokenizer.ModelFileName)));
        var expected = new Dictionary<string, object>
        {
            ["TrainerSpec.ModelType"] = "Bpe",
            ["TrainerSpec.VocabSize"] = BuiltInTokenizer.DefaultVocabularySize,
            ["TrainerSpec.ByteFallback"] = true,
            ["TrainerSpec.SplitDigits"] = true,
            ["TrainerSpec.TreatWhitespaceAsSuffix"] = false,
            ["TrainerSpec.UnkId"] = 0,
            ["TrainerSpec.BosId"] = 1,
            ["TrainerSpec.EosId"] = 2,
            ["TrainerSpec.PadId"] = -1,
            ["TrainerSpec.BosPiece"] = "<s>",
            ["TrainerSpec.EosPiece"] = "</s>",
            ["TrainerSpec.UnkPiece"] = "<unk>",
            ["TrainerSpec.MaxSentencepieceLength"] = 16,
            ["NormalizerSpec.Name"] = "identity",
            ["NormalizerSpec.AddDummyPrefix"] = true,
            ["NormalizerSpec.RemoveExtraWhitespaces"] = false,
            ["NormalizerSpec.EscapeWhitespaces"] = true,
        };
        foreach (var (path, value) in expected) Assert.True(value.ToString() == model.Field(path)?.ToString(), $"{path}: {model.Field(path)}");

        var pieces = model.Pieces();
        Assert.Equal(BuiltInTokenizer.DefaultVocabularySize, pieces.Count);
        Assert.Equal([("<unk>", "Unknown"), ("<s>", "Control"), ("</s>", "Control")], pieces.Take(3).Select(p => (p.Piece, p.Type)));
        Assert.Equal(Enumerable.Range(0, 256).Select(b => ($"<0x{b:X2}>", "Byte")), pieces.Skip(3).Take(256).Select(p => (p.Piece, p.Type)));
        var alphabet = pieces.Skip(259).Take(95).Select(p => p.Piece).ToArray();
        Assert.Equal(["▁", .. Enumerable.Range('!', 94).Select(c => ((char)c).ToString())], alphabet);
        var merges = pieces.Skip(TokenizerTrainer.BaseVocabularySize).ToArray();
        Assert.All(merges, p => Assert.Equal("Normal", p.Type));
        Assert.All(merges, p => Assert.True(p.Piece.Length >= 2, p.Piece));
        // Decreasing scores replay the merges in the order they were learned.
        Assert.Equal(Enumerable.Range(0, merges.Length).Select(rank => (float)-rank), merges.Select(p => p.Score));
        Assert.Equal(pieces.Count, pieces.Select(p => p.Piece).Distinct().Count());
    }

    [Fact]
    public void Hugging_Face_config_names_the_special_tokens_and_the_chat_template()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "tokenizer_config.json")))!;
        Assert.Equal("LlamaTokenizer", (string?)config["tokenizer_class"]);
        Assert.Equal("<s>", (string?)config["bos_token"]);
        Assert.Equal("</s>", (string?)config["eos_token"]);
        Assert.Equal("<unk>", (string?)config["unk_token"]);
        Assert.True((bool?)config["add_bos_token"]);
        Assert.False((bool?)config["add_eos_token"]);
        Assert.Equal(ChatTemplate.HuggingFaceTemplate, (string?)config["chat_template"]);
        Assert.Equal("</s>", (string?)config["added_tokens_decoder"]!["2"]!["content"]);

        var map = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "special_tokens_map.json")))!;
        Assert.Equal(["<s>", "</s>", "<unk>"], new[] { "bos_token", "eos_token", "unk_token" }.Select(key => (string?)map[key]!["content"]));
    }

    [Fact]
    public void Writing_twice_gives_identical_bytes()
    {
        var again = Directory.CreateTempSubdirectory("c2f-tokenizer-again-").FullName;
        try
        {
            BuiltInTokenizer.Write(again);
            foreach (var name in new[] { MistralTokenizer.ModelFileName, "tokenizer_config.json", "special_tokens_map.json" })
                Assert.True(File.ReadAllBytes(Path.Combine(fixture.Directory, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, name))), name);
            Assert.Empty(Directory.GetFiles(again, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(again, recursive: true);
        }
    }
}
