using System.Text;
using Microsoft.ML.Tokenizers;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The tokenizer of a Mistral checkpoint: its SentencePiece BPE <c>tokenizer.model</c> (byte fallback, dummy prefix),
/// loaded and encoded through Microsoft.ML.Tokenizers. Decoding follows SentencePiece's rules (see <see cref="TokenStreamDecoder"/>).
/// </summary>
public sealed class MistralTokenizer
{
    public const string ModelFileName = "tokenizer.model";

    private readonly LlamaTokenizer _encoder;
    private readonly DecodingTable _decoding;

    private MistralTokenizer(LlamaTokenizer encoder, DecodingTable decoding) => (_encoder, _decoding) = (encoder, decoding);

    public int VocabularySize => _decoding.Count;
    public int BosId => _encoder.BeginningOfSentenceId;
    public int EosId => _encoder.EndOfSentenceId;

    /// <summary>Loads <c>tokenizer.model</c> from a checkpoint directory.</summary>
    /// <summary>A bound on tokenizer.model, far above any real vocabulary, so a wrong file cannot be read into memory whole.</summary>
    public const long MaxModelFileBytes = 64L << 20;

    public static MistralTokenizer Load(string checkpointDirectory)
    {
        var path = Path.Combine(checkpointDirectory, ModelFileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{Path.GetFullPath(path)}: not found; the model directory has no {ModelFileName}", path);
        ModelFiles.RequireWithin(path, checkpointDirectory);
        return FromModelFile(path);
    }

    public static MistralTokenizer FromModelFile(string modelPath)
    {
        ModelFiles.RequireRegularFile(modelPath);
        long length = new FileInfo(modelPath).Length;
        if (length > MaxModelFileBytes)
            throw new InvalidDataException($"{modelPath}: {length} bytes, more than a SentencePiece model's {MaxModelFileBytes} (Mistral's is about 0.5 MB)");
        return FromBytes(File.ReadAllBytes(modelPath), modelPath);
    }

    /// <summary>A tokenizer from the bytes of a <c>tokenizer.model</c>; <paramref name="modelPath"/> names it in errors.</summary>
    public static MistralTokenizer FromBytes(byte[] bytes, string modelPath)
    {
        LlamaTokenizer encoder;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            // BOS is added by Encode itself: the library returns no ids at all for empty text, not even BOS.
            encoder = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception exception)
        {
            // A damaged file surfaces as protobuf, argument or null-reference errors from the library; name the file.
            throw new InvalidDataException(
                $"'{modelPath}' is not a readable SentencePiece BPE model: {exception.GetType().Name}: {exception.Message}", exception);
        }
        return new MistralTokenizer(encoder, DecodingTable.From(encoder, modelPath));
    }

    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _encoder.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);
        if (!addBos) return [.. ids];
        var withBos = new int[ids.Count + 1];
        withBos[0] = BosId;
        for (int i = 0; i < ids.Count; i++) withBos[i + 1] = ids[i];
        return withBos;
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

    /// <summary>The piece text of an id, e.g. "▁the" or "&lt;0x0A&gt;", for inspection and tests.</summary>
    public string IdToPiece(int id)
    {
        _decoding.RequireValid(id);
        return _decoding.Piece(id);
    }
}
