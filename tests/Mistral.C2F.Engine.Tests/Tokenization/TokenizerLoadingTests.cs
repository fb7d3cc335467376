using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>Loading errors name the directory or file at fault.</summary>
[Trait("Backend", "cpu")]
[Collection(TokenizerCollection.Name)]
public sealed class TokenizerLoadingTests(TokenizerFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("c2f-broken-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Missing_model_names_the_checkpoint_directory()
    {
        var error = Assert.Throws<FileNotFoundException>(() => MistralTokenizer.Load(_directory));
        Assert.Contains(_directory, error.Message);
        Assert.Contains("tokenizer.model", error.Message);
    }

    public static TheoryData<string> Corruptions => ["text", "truncated", "empty", "flipped"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Corrupt_model_names_the_file(string corruption)
    {
        var valid = File.ReadAllBytes(Path.Combine(fixture.Directory, MistralTokenizer.ModelFileName));
        var bytes = corruption switch
        {
            "text" => "this is not a SentencePiece model"u8.ToArray(),
            "truncated" => valid[..(valid.Length / 2)],
            "empty" => [],
            // Pieces start with tag 0x0A (field 1, length-delimited); an end-group tag there is invalid.
            _ => [0x0C, .. valid[1..]],
        };
        var path = Path.Combine(_directory, MistralTokenizer.ModelFileName);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => MistralTokenizer.Load(_directory));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_normalizer_with_a_character_map_is_refused_by_name()
    {
        var valid = File.ReadAllBytes(Path.Combine(fixture.Directory, MistralTokenizer.ModelFileName));
        // A second normalizer_spec (field 3), which protobuf merges into the first: name "nmt_nfkc" and a character map.
        byte[] normalizer = [0x0A, 8, .. "nmt_nfkc"u8, 0x12, 4, 1, 2, 3, 4];
        var path = Path.Combine(_directory, MistralTokenizer.ModelFileName);
        File.WriteAllBytes(path, [.. valid, 0x1A, (byte)normalizer.Length, .. normalizer]);
        var error = Assert.Throws<InvalidDataException>(() => MistralTokenizer.Load(_directory));
        Assert.Contains(path, error.Message);
        Assert.Contains("'nmt_nfkc'", error.Message);
    }
}
