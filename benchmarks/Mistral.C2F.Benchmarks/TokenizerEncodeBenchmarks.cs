using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.Tokenizers;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Benchmarks;

/// <summary>
/// Encoding speed of the engine's SentencePiece-exact BPE encoder against Microsoft.ML.Tokenizers' encoder of the
/// same tokenizer.model (the encoder the engine used before it matched SentencePiece id for id), on the built-in
/// tokenizer: the built-in corpus (prose and arithmetic) and the same amount of Python indented by spaces.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
public class TokenizerEncodeBenchmarks
{
    private string _directory = "";
    private MistralTokenizer _engine = null!;
    private LlamaTokenizer _library = null!;
    private string[] _lines = [];

    [Params("prose", "code")]
    public string Text { get; set; } = "prose";

    [GlobalSetup]
    public void Load()
    {
        _directory = Directory.CreateTempSubdirectory("c2f-bench-tokenizer-").FullName;
        BuiltInTokenizer.Write(_directory);
        var model = Path.Combine(_directory, MistralTokenizer.ModelFileName);
        _engine = MistralTokenizer.FromModelFile(model);
        using (var stream = File.OpenRead(model))
            _library = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        var prose = BuiltInCorpus.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        _lines = Text == "prose" ? prose : [.. Enumerable.Range(0, prose.Length).Select(Code)];
    }

    private static string Code(int i)
    {
        var indent = new string(' ', 4 * (i % 6));
        return new StringBuilder(indent).Append(i % 3 == 0 ? "return " : "if ").Append("value_").Append(i % 97)
            .Append(" + ").Append(i).Append(':').ToString();
    }

    [GlobalCleanup]
    public void Delete() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Baseline = true)]
    public int Library()
    {
        int count = 0;
        foreach (var line in _lines) count += _library.EncodeToIds(line, addBeginningOfSentence: false, addEndOfSentence: false).Count;
        return count;
    }

    [Benchmark]
    public int Engine()
    {
        int count = 0;
        foreach (var line in _lines) count += _engine.Encode(line, addBos: false).Length;
        return count;
    }
}
