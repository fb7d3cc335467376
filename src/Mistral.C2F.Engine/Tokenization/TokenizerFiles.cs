using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The tokenizer files of a model directory, held in memory: a training run reads them once where it starts and writes
/// them into every checkpoint, so each checkpoint is complete even after the directory they came from was pruned.
/// <c>tokenizer.model</c> or <c>tokenizer.json</c> is required (the first is used where both are); the Hugging Face JSON
/// files beside it travel along when present.
/// </summary>
public sealed class TokenizerFiles
{
    private static readonly string[] Names =
    [
        MistralTokenizer.ModelFileName, HuggingFaceTokenizerJson.FileName,
        HuggingFaceTokenizerConfig.ConfigFileName, HuggingFaceTokenizerConfig.SpecialTokensMapFileName,
    ];

    private readonly IReadOnlyList<(string Name, byte[] Content)> _files;

    private TokenizerFiles(string source, IReadOnlyList<(string Name, byte[] Content)> files) => (Source, _files) = (source, files);

    /// <summary>The directory the files were read from.</summary>
    public string Source { get; }

    /// <summary>Whether <paramref name="directory"/> holds a tokenizer (tokenizer.model or tokenizer.json).</summary>
    public static bool Exist(string directory) =>
        File.Exists(Path.Combine(directory, MistralTokenizer.ModelFileName)) || File.Exists(Path.Combine(directory, HuggingFaceTokenizerJson.FileName));

    public static TokenizerFiles Read(string directory)
    {
        directory = Path.GetFullPath(directory);
        var files = new List<(string, byte[])>();
        foreach (var name in Names)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path)) continue;
            ModelFiles.RequireWithin(path, directory);
            files.Add((name, MistralTokenizer.ReadTokenizerFile(path)));
        }
        if (!files.Any(file => file.Item1 is MistralTokenizer.ModelFileName or HuggingFaceTokenizerJson.FileName))
        {
            var path = Path.Combine(directory, MistralTokenizer.ModelFileName);
            throw new FileNotFoundException(
                $"{path}: not found, nor {HuggingFaceTokenizerJson.FileName}; a training run needs the tokenizer of the model it starts from", path);
        }
        return new TokenizerFiles(directory, files);
    }

    /// <summary>The tokenizer these files describe: tokenizer.model where there is one, else tokenizer.json.</summary>
    public MistralTokenizer CreateTokenizer()
    {
        var (name, content) = _files[0];
        var path = Path.Combine(Source, name);
        return name == MistralTokenizer.ModelFileName
            ? MistralTokenizer.FromBytes(content, path)
            : MistralTokenizer.FromTokenizerJson(System.Text.Encoding.UTF8.GetString(content), path);
    }

    /// <summary>Writes every file into <paramref name="directory"/>, each atomically.</summary>
    public void Write(string directory)
    {
        foreach (var (name, content) in _files) AtomicFile.Write(Path.Combine(directory, name), stream => stream.Write(content));
    }
}
