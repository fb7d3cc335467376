using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>
/// Checkpoints that ship only Hugging Face's tokenizer.json: read as the SentencePiece model it was converted from,
/// it gives the ids of its tokenizer.model twin (the built-in tokenizer on its corpus, indented code and random text;
/// the SentencePiece oracle models on every fixture case, whitespace runs, user-defined and control pieces included),
/// and whatever would tokenize otherwise is an error naming the file.
/// </summary>
[Trait("Backend", "cpu")]
[Collection(TokenizerCollection.Name)]
public sealed class TokenizerJsonTests(TokenizerFixture fixture) : IDisposable
{
    private static readonly string OracleDirectory = Path.Combine(AppContext.BaseDirectory, "Tokenization", "SentencePieceOracle");
    private readonly string _directory = Directory.CreateTempSubdirectory("c2f-tokenizer-json-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A directory holding only the tokenizer.json written from <paramref name="modelPath"/>'s pieces.</summary>
    private string JsonOnlyTwin(string modelPath, string name)
    {
        var pieces = SentencePieceModel.Read(File.ReadAllBytes(modelPath), modelPath).Pieces;
        var directory = Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;
        File.WriteAllText(Path.Combine(directory, HuggingFaceTokenizerJson.FileName), HuggingFaceTokenizerJson.Write(pieces));
        return directory;
    }

    [Fact]
    public void The_built_in_tokenizer_as_tokenizer_json_gives_the_ids_and_text_of_its_tokenizer_model()
    {
        var twin = MistralTokenizer.Load(JsonOnlyTwin(Path.Combine(fixture.Directory, MistralTokenizer.ModelFileName), "built-in"));
        var model = fixture.Tokenizer;
        Assert.Equal((model.VocabularySize, model.BosId, model.EosId), (twin.VocabularySize, twin.BosId, twin.EosId));
        var random = new RandomText();
        var texts = BuiltInCorpus.Text.Split('\n')
            .Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i % 41) + "return value_" + i + "\n\tnext"))
            .Concat(Enumerable.Range(0, 200).Select(_ => random.Unicode(60)))
            .Concat(Enumerable.Range(0, 200).Select(_ => random.PrintableAscii(80)));
        foreach (var text in texts)
        {
            var ids = model.Encode(text, addBos: true);
            Assert.True(ids.SequenceEqual(twin.Encode(text, addBos: true)), $"seed {random.Seed}: {JsonSerializer.Serialize(text)}");
            Assert.Equal(model.Decode(ids), twin.Decode(ids));
        }
    }

    [Theory]
    [InlineData("oracle.model")]
    [InlineData("oracle-symbols.model")]
    public void An_oracle_model_as_tokenizer_json_gives_sentencepiece_s_ids_on_every_fixture_case(string modelName)
    {
        var twin = MistralTokenizer.Load(JsonOnlyTwin(Path.Combine(OracleDirectory, modelName), modelName));
        Assert.Equal(modelName == "oracle-symbols.model", twin.ControlId("[INST]") is not null);  // special added tokens are control pieces
        using var fixtures = JsonDocument.Parse(File.ReadAllText(Path.Combine(OracleDirectory, "cases.json")));
        var cases = fixtures.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == modelName);
        foreach (var @case in cases.GetProperty("cases").EnumerateArray())
        {
            var text = @case.GetProperty("text").GetString()!;
            Assert.True(@case.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32()).SequenceEqual(twin.Encode(text, addBos: false)),
                $"{modelName} as tokenizer.json: {JsonSerializer.Serialize(text)}");
        }
    }

    [Fact]
    public void A_merge_list_of_strings_and_a_prepend_normalizer_read_as_the_pair_lists_and_metaspace_do()
    {
        var directory = JsonOnlyTwin(Path.Combine(fixture.Directory, MistralTokenizer.ModelFileName), "older-format");
        var path = Path.Combine(directory, HuggingFaceTokenizerJson.FileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        var merges = root["model"]!["merges"]!.AsArray();
        root["model"]!["merges"] = new JsonArray([.. merges.Select(m => JsonValue.Create($"{m![0]} {m[1]}"))]);
        root["pre_tokenizer"] = null;
        root["normalizer"] = JsonNode.Parse("""{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}""");
        File.WriteAllText(path, root.ToJsonString());
        var twin = MistralTokenizer.Load(directory);
        foreach (var text in BuiltInCorpus.Text.Split('\n').Take(300))
            Assert.Equal(fixture.Tokenizer.Encode(text, addBos: false), twin.Encode(text, addBos: false));
    }

    public static TheoryData<string, string, string> Unsupported => new()
    {
        { "model.type", "\"Unigram\"", "model type \"Unigram\"" },
        { "model.byte_fallback", "false", "\"byte_fallback\" is not true" },
        { "model.dropout", "0.1", "BPE dropout" },
        { "model.continuing_subword_prefix", "\"##\"", "\"continuing_subword_prefix\"" },
        { "pre_tokenizer", """{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true}""", "splits the text at spaces" },
        { "pre_tokenizer", """{"type": "ByteLevel", "add_prefix_space": false}""", "only Metaspace" },
        { "normalizer", """{"type": "NFKC"}""", "normalizer {\"type\":\"NFKC\"}" },
        { "model.merges", """[["x", "y"]]""", "makes a piece outside the vocabulary" },
        { "model.merges", """["a b c"]""", "not a pair" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void What_would_tokenize_otherwise_is_refused_naming_the_file(string key, string json, string message)
    {
        var directory = JsonOnlyTwin(Path.Combine(fixture.Directory, MistralTokenizer.ModelFileName), "unsupported");
        var path = Path.Combine(directory, HuggingFaceTokenizerJson.FileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        var (parent, name) = key.Split('.') is [var outer, var inner] ? (root[outer]!, inner) : (root, key);
        parent[name] = JsonNode.Parse(json);
        File.WriteAllText(path, root.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => MistralTokenizer.Load(directory));
        Assert.Contains(path, error.Message);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("{\"model\": ", "not valid JSON")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {\"<unk>\": 0, \"<s>\": 2}, \"merges\": []}}", "no piece has id 1")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"unk_token\": \"<unk>\", \"vocab\": {\"<unk>\": 0, \"<s>\": 1, \"a\": 2}, \"merges\": []}}", "Pieces 0, 1, 2 must be")]
    public void A_broken_tokenizer_json_is_an_error_naming_the_file(string json, string message)
    {
        var path = Path.Combine(_directory, HuggingFaceTokenizerJson.FileName);
        File.WriteAllText(path, json);
        var error = Assert.Throws<InvalidDataException>(() => MistralTokenizer.Load(_directory));
        Assert.Contains(path, error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_tokenizer_json_that_is_a_fifo_is_refused_instead_of_blocking()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("FIFOs are a Unix file type");
        var path = Path.Combine(_directory, HuggingFaceTokenizerJson.FileName);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", path)) mkfifo.WaitForExit();
        var error = Assert.Throws<IOException>(() => MistralTokenizer.Load(_directory));
        Assert.Contains(path, error.Message);
        Assert.Contains("not a regular file", error.Message);
    }

    [Fact]
    public void Without_either_tokenizer_file_the_error_names_both()
    {
        var error = Assert.Throws<FileNotFoundException>(() => MistralTokenizer.Load(_directory));
        Assert.Contains("neither tokenizer.model nor tokenizer.json", error.Message);
    }
}
