using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The tokenizer files of a model directory, held in memory: a training run reads them once where it starts and writes
/// them into every checkpoint, so each checkpoint is complete even after the directory they came from was pruned.
/// <c>tokenizer.model</c> is required; the Hugging Face JSON files beside it travel along when present.
/// </summary>
public sealed class TokenizerFiles
{
    private static readonly string[] OptionalNames = [HuggingFaceTokenizerConfig.ConfigFileName, HuggingFaceTokenizerConfig.SpecialTokensMapFileName];

    private readonly IReadOnlyList<(string Name, byte[] Content)> _files;

    private TokenizerFiles(string source, IReadOnlyList<(string Name, byte[] Content)> files) => (Source, _files) = (source, files);

    /// <summary>The directory the files were read from.</summary>
    public string Source { get; }

    public static TokenizerFiles Read(string directory)
    {
        directory = Path.GetFullPath(directory);
        var files = new List<(string, byte[])>();
        foreach (var name in OptionalNames.Prepend(MistralTokenizer.ModelFileName))
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                if (name == MistralTokenizer.ModelFileName)
                    throw new FileNotFoundException($"{path}: not found; a training run needs the tokenizer of the model it starts from", path);
                continue;
            }
            ModelFiles.RequireWithin(path, directory);
            long length = new FileInfo(path).Length;
            if (length > MistralTokenizer.MaxModelFileBytes)
                throw new InvalidDataException($"{path}: {length} bytes, more than a tokenizer file's {MistralTokenizer.MaxModelFileBytes}");
            files.Add((name, File.ReadAllBytes(path)));
        }
        return new TokenizerFiles(directory, files);
    }

    /// <summary>The tokenizer these files describe.</summary>
    public MistralTokenizer CreateTokenizer() =>
        MistralTokenizer.FromBytes(_files[0].Content, Path.Combine(Source, MistralTokenizer.ModelFileName));

    /// <summary>Writes every file into <paramref name="directory"/>, each atomically.</summary>
    public void Write(string directory)
    {
        foreach (var (name, content) in _files) AtomicFile.Write(Path.Combine(directory, name), stream => stream.Write(content));
    }
}
