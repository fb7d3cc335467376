using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>The built-in tokenizer, trained once for all tokenizer tests into a temporary checkpoint directory.</summary>
public sealed class TokenizerFixture : IDisposable
{
    public TokenizerFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("c2f-tokenizer-").FullName;
        BuiltInTokenizer.Write(Directory);
        Tokenizer = MistralTokenizer.Load(Directory);
    }

    public string Directory { get; }
    public MistralTokenizer Tokenizer { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class TokenizerCollection : ICollectionFixture<TokenizerFixture>
{
    public const string Name = "Built-in tokenizer";
}
