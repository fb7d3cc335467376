using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Rlhf.Tests.Support;

/// <summary>The built-in tokenizer, trained once for every test class in <see cref="BuiltInTokenizerCollection"/>.</summary>
public sealed class BuiltInTokenizerFixture : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public BuiltInTokenizerFixture()
    {
        BuiltInTokenizer.Write(_directory.Path);
        Tokenizer = MistralTokenizer.Load(_directory.Path);
    }

    public MistralTokenizer Tokenizer { get; }

    public void Dispose() => _directory.Dispose();
}

[CollectionDefinition(Name)]
public sealed class BuiltInTokenizerCollection : ICollectionFixture<BuiltInTokenizerFixture>
{
    public const string Name = "Built-in tokenizer";
}
