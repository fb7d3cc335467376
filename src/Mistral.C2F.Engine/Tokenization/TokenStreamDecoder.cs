using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// Decodes generated ids one at a time. <see cref="Push"/> returns only text that is complete: a character spelled by
/// several byte-fallback pieces comes out once its last byte arrives, and the dummy-prefix space of the first piece
/// is dropped as SentencePiece drops it. The pieces pushed, then <see cref="Flush"/>, concatenate to exactly
/// <see cref="MistralTokenizer.Decode"/> of the whole sequence (which is implemented with this class).
/// </summary>
public sealed class TokenStreamDecoder
{
    private readonly DecodingTable _table;
    private readonly List<byte> _pendingBytes = new(4);
    private readonly StringBuilder _completed = new();
    private bool _atStart;

    internal TokenStreamDecoder(DecodingTable table, bool continuation)
    {
        _table = table;
        _atStart = !continuation;
    }

    /// <summary>Feeds one id; returns the text it completes (often empty while a multi-byte character is pending).</summary>
    public string Push(int id)
    {
        _table.RequireValid(id);
        if (_table.TryGetByte(id, out byte value))
        {
            _atStart = false;
            _pendingBytes.Add(value);
            DecodePendingBytes(endOfBytes: false);
        }
        else
        {
            // As in SentencePiece, any other piece (control ones included) ends a byte run: leftovers become U+FFFD.
            DecodePendingBytes(endOfBytes: true);
            if (!_table.IsControl(id)) AppendPiece(_table.Piece(id));
        }
        return TakeCompleted();
    }

    /// <summary>Ends the sequence: bytes of an unfinished character come out as U+FFFD, one per byte.</summary>
    public string Flush()
    {
        DecodePendingBytes(endOfBytes: true);
        return TakeCompleted();
    }

    private void AppendPiece(string piece)
    {
        var text = piece.AsSpan();
        if (_atStart && text.Length > 0 && text[0] == SentencePieceText.WordBoundary) text = text[1..];
        _atStart = false;
        foreach (var c in text) _completed.Append(c == SentencePieceText.WordBoundary ? ' ' : c);
    }

    /// <summary>
    /// Emits every whole UTF-8 character at the front of the pending bytes. A structurally invalid byte becomes one
    /// U+FFFD, as SentencePiece does; an incomplete but valid prefix waits for more bytes unless the byte run has ended.
    /// </summary>
    private void DecodePendingBytes(bool endOfBytes)
    {
        var bytes = CollectionsMarshal.AsSpan(_pendingBytes);
        Span<char> utf16 = stackalloc char[2];
        int consumed = 0;
        while (consumed < bytes.Length)
        {
            var status = Rune.DecodeFromUtf8(bytes[consumed..], out var rune, out int length);
            if (status == OperationStatus.NeedMoreData && !endOfBytes) break;
            if (status == OperationStatus.Done)
            {
                _completed.Append(utf16[..rune.EncodeToUtf16(utf16)]);
                consumed += length;
            }
            else
            {
                _completed.Append('\uFFFD');
                consumed++;
            }
        }
        _pendingBytes.RemoveRange(0, consumed);
    }

    private string TakeCompleted()
    {
        var text = _completed.ToString();
        _completed.Clear();
        return text;
    }
}
