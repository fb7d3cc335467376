using Microsoft.ML.Tokenizers;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// What each id decodes to, as SentencePiece decodes: nothing for &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;; one raw UTF-8 byte for
/// a byte-fallback piece &lt;0xHH&gt;; otherwise the piece's text, in which "▁" stands for a space.
/// </summary>
internal sealed class DecodingTable
{
    private readonly string[] _pieces;
    private readonly int _firstByteId;
    private readonly int[] _controlIds;

    private DecodingTable(string[] pieces, int firstByteId, int[] controlIds) =>
        (_pieces, _firstByteId, _controlIds) = (pieces, firstByteId, controlIds);

    public int Count => _pieces.Length;

    /// <summary>Reads the table from the loaded model, checking what the byte fallback relies on; errors name the file.</summary>
    public static DecodingTable From(SentencePieceTokenizer tokenizer, string modelPath)
    {
        var vocabulary = tokenizer.Vocabulary;
        var pieces = new string[vocabulary.Count];
        foreach (var (piece, id) in vocabulary)
        {
            if ((uint)id >= (uint)pieces.Length)
                throw new InvalidDataException($"'{modelPath}': piece id {id} is outside the vocabulary of {pieces.Length}.");
            pieces[id] = piece;
        }

        var controlIds = new[] { tokenizer.UnknownId, tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId };
        if (controlIds.Any(id => (uint)id >= (uint)pieces.Length))
            throw new InvalidDataException($"'{modelPath}': the unk/bos/eos ids {string.Join("/", controlIds)} are not all in the vocabulary of {pieces.Length}.");
        if (!tokenizer.ByteFallback)
            throw new InvalidDataException($"'{modelPath}' has no byte fallback; Mistral tokenizers spell unknown characters as UTF-8 bytes.");
        // Byte b is the id of <0x00> plus b, as Microsoft.ML.Tokenizers assumes when it encodes by byte fallback.
        if (!vocabulary.TryGetValue(SentencePieceText.BytePiece(0), out int firstByteId))
            throw new InvalidDataException($"'{modelPath}' enables byte fallback but has no byte piece {SentencePieceText.BytePiece(0)}.");
        for (int value = 0; value < 256; value++)
            if (firstByteId + value >= pieces.Length || pieces[firstByteId + value] != SentencePieceText.BytePiece(value))
                throw new InvalidDataException($"'{modelPath}': byte piece {SentencePieceText.BytePiece(value)} is not at id {firstByteId + value}.");
        return new DecodingTable(pieces, firstByteId, controlIds);
    }

    public void RequireValid(int id)
    {
        if ((uint)id >= (uint)_pieces.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token ids run from 0 to {_pieces.Length - 1}.");
    }

    public bool IsControl(int id) => Array.IndexOf(_controlIds, id) >= 0;

    public bool TryGetByte(int id, out byte value)
    {
        value = (byte)(id - _firstByteId);
        return (uint)(id - _firstByteId) < 256;
    }

    public string Piece(int id) => _pieces[id];
}
