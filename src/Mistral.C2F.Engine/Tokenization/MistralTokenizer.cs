using System.Text;
using Microsoft.ML.Tokenizers;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The tokenizer of a Mistral checkpoint: its SentencePiece BPE <c>tokenizer.model</c> (byte fallback, dummy prefix),
/// loaded and validated through Microsoft.ML.Tokenizers and encoded as SentencePiece encodes, id for id
/// (<see cref="SentencePieceBpeEncoder"/>). Decoding follows SentencePiece's rules (see <see cref="TokenStreamDecoder"/>).
/// </summary>
public sealed class MistralTokenizer
{
    public const string ModelFileName = "tokenizer.model";

    private readonly SentencePieceBpeEncoder _encoder;
    private readonly DecodingTable _decoding;

    private MistralTokenizer(SentencePieceBpeEncoder encoder, DecodingTable decoding, int bosId, int eosId) =>
        (_encoder, _decoding, BosId, EosId) = (encoder, decoding, bosId, eosId);

    public int VocabularySize => _decoding.Count;
    public int BosId { get; }
    public int EosId { get; }

    /// <summary>A bound on a tokenizer file, far above any real vocabulary, so a wrong file cannot be read into memory whole.</summary>
    public const long MaxModelFileBytes = 64L << 20;

    /// <summary>
    /// Loads a checkpoint directory's tokenizer: <c>tokenizer.model</c>, or, where a checkpoint ships only the fast
    /// tokenizer, <c>tokenizer.json</c> read as the SentencePiece model it was converted from.
    /// </summary>
    public static MistralTokenizer Load(string checkpointDirectory)
    {
        var path = Path.Combine(checkpointDirectory, ModelFileName);
        var json = Path.Combine(checkpointDirectory, HuggingFaceTokenizerJson.FileName);
        if (!File.Exists(path) && File.Exists(json))
        {
            ModelFiles.RequireWithin(json, checkpointDirectory);
            return FromTokenizerJson(json);
        }
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{Path.GetFullPath(path)}: not found; the model directory has neither {ModelFileName} nor {HuggingFaceTokenizerJson.FileName}", path);
        ModelFiles.RequireWithin(path, checkpointDirectory);
        return FromModelFile(path);
    }

    /// <summary>A tokenizer from a Hugging Face <c>tokenizer.json</c>; what it cannot read exactly is an error naming the file.</summary>
    public static MistralTokenizer FromTokenizerJson(string jsonPath) =>
        FromTokenizerJson(Encoding.UTF8.GetString(ReadTokenizerFile(jsonPath)), jsonPath);

    /// <summary>A tokenizer from the text of a <c>tokenizer.json</c>; <paramref name="jsonPath"/> names it in errors.</summary>
    public static MistralTokenizer FromTokenizerJson(string json, string jsonPath)
    {
        var (pieces, addDummyPrefix) = HuggingFaceTokenizerJson.Read(json, jsonPath);
        byte[] model;
        try
        {
            model = SentencePieceModelWriter.Serialize(pieces, addDummyPrefix);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"{jsonPath}: {exception.Message}", exception);
        }
        return FromBytes(model, jsonPath);
    }

    public static MistralTokenizer FromModelFile(string modelPath) => FromBytes(ReadTokenizerFile(modelPath), modelPath);

    /// <summary>A tokenizer file's bytes: a regular file within <see cref="MaxModelFileBytes"/> (Mistral's are 0.5 to 2 MB).</summary>
    internal static byte[] ReadTokenizerFile(string path)
    {
        ModelFiles.RequireRegularFile(path);
        long length = new FileInfo(path).Length;
        if (length > MaxModelFileBytes)
            throw new InvalidDataException($"{path}: {length} bytes, more than a tokenizer file's {MaxModelFileBytes}");
        return File.ReadAllBytes(path);
    }

    /// <summary>A tokenizer from the bytes of a <c>tokenizer.model</c>; <paramref name="modelPath"/> names it in errors.</summary>
    public static MistralTokenizer FromBytes(byte[] bytes, string modelPath)
    {
        LlamaTokenizer library;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            library = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception exception)
        {
            // A damaged file surfaces as protobuf, argument or null-reference errors from the library; name the file.
            throw new InvalidDataException(
                $"'{modelPath}' is not a readable SentencePiece BPE model: {exception.GetType().Name}: {exception.Message}", exception);
        }
        var decoding = DecodingTable.From(library, modelPath);
        var encoder = new SentencePieceBpeEncoder(SentencePieceModel.Read(bytes, modelPath), modelPath);
        return new MistralTokenizer(encoder, decoding, library.BeginningOfSentenceId, library.EndOfSentenceId);
    }

    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos) ids.Add(BosId);
        _encoder.Encode(text, ids);
        return [.. ids];
    }

    /// <summary>
    /// The text of the ids; BOS, EOS and unk decode to nothing. A <paramref name="continuation"/> (tokens generated
    /// after a prompt) keeps the leading space of its first piece, which starts a new word after the prompt's text.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool continuation = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var decoder = CreateStreamDecoder(continuation);
        var text = new StringBuilder();
        foreach (var id in ids) text.Append(decoder.Push(id));
        return text.Append(decoder.Flush()).ToString();
    }

    public TokenStreamDecoder CreateStreamDecoder(bool continuation = false) => new(_decoding, continuation);

    /// <summary>The id of a control piece (a token that text never encodes to, such as [INST] in Mistral's v3 vocabulary), or null.</summary>
    public int? ControlId(string piece) => _encoder.ControlId(piece);

    /// <summary>The piece text of an id, e.g. "▁the" or "&lt;0x0A&gt;", for inspection and tests.</summary>
    public string IdToPiece(int id)
    {
        _decoding.RequireValid(id);
        return _decoding.Piece(id);
    }
}
