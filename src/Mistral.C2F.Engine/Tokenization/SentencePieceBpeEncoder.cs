using System.Text;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// SentencePiece's BPE encoding, step for step (bpe_model.cc): the normalized text split into characters (a
/// user-defined piece matched at a position stays whole and never merges); then, while some adjacent pair of
/// symbols spells a piece, merge the pair whose piece scores highest, the leftmost of equal scores first; then each
/// symbol's id, an unused piece split back into the two it was merged from, and a symbol outside the vocabulary
/// spelled as its UTF-8 bytes (byte fallback). Microsoft.ML.Tokenizers resolves equal scores in another order, which
/// changes the ids of every run of spaces that a whitespace piece can cover more than one way (indented code).
/// </summary>
internal sealed class SentencePieceBpeEncoder
{
    private readonly Dictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly SentencePiece[] _pieces;
    private readonly string[] _userDefined;
    private readonly int[] _byteIds = new int[256];
    private readonly int _unknownId;
    private readonly bool _byteFallback;
    private readonly SentencePieceModel _model;

    public SentencePieceBpeEncoder(SentencePieceModel model, string modelPath)
    {
        if (model.HasCharacterMap)
            throw new InvalidDataException($"'{modelPath}': its normalizer '{model.NormalizerName}' rewrites text through a character map, " +
                "which this engine does not apply; Mistral's tokenizers use 'identity'");
        _model = model;
        _pieces = [.. model.Pieces];
        _unknownId = Array.FindIndex(_pieces, p => p.Type == SentencePieceType.Unknown);
        if (_unknownId < 0) throw new InvalidDataException($"'{modelPath}' has no unknown piece");
        Array.Fill(_byteIds, -1);
        for (int id = 0; id < _pieces.Length; id++)
        {
            var piece = _pieces[id];
            _vocabulary.TryAdd(piece.Piece, id);  // the first of duplicate pieces wins, as in SentencePiece
            if (piece.Type == SentencePieceType.Byte && SentencePieceText.TryParseBytePiece(piece.Piece, out var value)) _byteIds[value] = id;
        }
        _byteFallback = Array.TrueForAll(_byteIds, id => id >= 0);
        _lookup = _vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _userDefined = [.. _pieces.Where(p => p.Type == SentencePieceType.UserDefined && p.Piece.Length > 0)
            .Select(p => p.Piece).OrderByDescending(p => p.Length)];
    }

    public int? ControlId(string piece) =>
        _vocabulary.TryGetValue(piece, out var id) && _pieces[id].Type == SentencePieceType.Control ? id : null;

    /// <summary>The ids of <paramref name="text"/>, appended to <paramref name="ids"/>.</summary>
    public void Encode(string text, List<int> ids)
    {
        var normalized = Normalize(text);
        if (normalized.Length == 0) return;
        var symbols = Split(normalized);
        Merge(normalized, symbols, out var unmerged);
        for (int i = 0; i >= 0; i = symbols[i].Next)
            Emit(normalized.AsSpan(symbols[i].Start, symbols[i].Length), unmerged, ids);
    }

    /// <summary>SentencePiece's normalizer without a character map: spaces kept or squeezed, escaped as "▁", the dummy prefix.</summary>
    private string Normalize(string text)
    {
        if (_model.RemoveExtraWhitespaces)
            text = string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (text.Length == 0) return text;
        if (_model.AddDummyPrefix) text = _model.TreatWhitespaceAsSuffix ? text + " " : " " + text;
        return _model.EscapeWhitespaces ? text.Replace(' ', SentencePieceText.WordBoundary) : text;
    }

    private struct Symbol
    {
        public int Start, Length, Previous, Next;
        public bool Frozen;
    }

    /// <summary>One symbol per character (a surrogate pair is one), or per user-defined piece found at a position.</summary>
    private Symbol[] Split(string text)
    {
        var symbols = new List<Symbol>(text.Length);
        for (int position = 0; position < text.Length;)
        {
            int length = 0;
            foreach (var piece in _userDefined)
                if (text.AsSpan(position).StartsWith(piece, StringComparison.Ordinal)) { length = piece.Length; break; }
            bool frozen = length > 0;
            if (!frozen) length = char.IsHighSurrogate(text[position]) && position + 1 < text.Length && char.IsLowSurrogate(text[position + 1]) ? 2 : 1;
            symbols.Add(new Symbol { Start = position, Length = length, Previous = symbols.Count - 1, Next = -1, Frozen = frozen });
            position += length;
        }
        var array = symbols.ToArray();
        for (int i = 0; i + 1 < array.Length; i++) array[i].Next = i + 1;
        return array;
    }

    /// <summary>A candidate merge: the pair starting at symbol Left, whose joined piece has Length characters.</summary>
    private readonly record struct Candidate(int Left, int Right, int Length);

    /// <summary>Highest score first; of equal scores, the leftmost.</summary>
    private sealed class CandidateOrder : IComparer<(float Score, int Left)>
    {
        public static readonly CandidateOrder Instance = new();
        public int Compare((float Score, int Left) x, (float Score, int Left) y) =>
            x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Left.CompareTo(y.Left);
    }

    private void Merge(string text, Symbol[] symbols, out Dictionary<string, (string, string)>? unmerged)
    {
        var agenda = new PriorityQueue<Candidate, (float, int)>(CandidateOrder.Instance);
        Dictionary<string, (string, string)>? reverse = null;

        void Consider(int left, int right)
        {
            if (left < 0 || right < 0 || symbols[left].Frozen || symbols[right].Frozen) return;
            var joined = text.AsSpan(symbols[left].Start, symbols[left].Length + symbols[right].Length);
            if (!_lookup.TryGetValue(joined, out var id) || !IsMergeable(_pieces[id].Type)) return;
            agenda.Enqueue(new Candidate(left, right, joined.Length), (_pieces[id].Score, left));
            // An unused piece may be merged through but is never output: remember its halves to split it again.
            if (_pieces[id].Type == SentencePieceType.Unused)
                (reverse ??= new(StringComparer.Ordinal))[joined.ToString()] =
                    (text.Substring(symbols[left].Start, symbols[left].Length), text.Substring(symbols[right].Start, symbols[right].Length));
        }

        for (int i = 1; i < symbols.Length; i++) Consider(i - 1, i);
        while (agenda.TryDequeue(out var top, out _))
        {
            ref var left = ref symbols[top.Left];
            ref var right = ref symbols[top.Right];
            // Stale: one side was merged into something else since the candidate was found.
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != top.Length) continue;
            left.Length += right.Length;
            left.Next = right.Next;
            if (right.Next >= 0) symbols[right.Next].Previous = top.Left;
            right.Length = 0;
            Consider(left.Previous, top.Left);
            Consider(top.Left, left.Next);
        }
        unmerged = reverse;
    }

    // SentencePiece merges into normal, user-defined and unused pieces; control, unknown and byte pieces are reserved.
    private static bool IsMergeable(SentencePieceType type) =>
        type is SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused;

    private void Emit(ReadOnlySpan<char> symbol, Dictionary<string, (string Left, string Right)>? unmerged, List<int> ids)
    {
        if (!_lookup.TryGetValue(symbol, out var id)) id = _unknownId;
        if (_pieces[id].Type == SentencePieceType.Unused && unmerged is not null && unmerged.TryGetValue(symbol.ToString(), out var halves))
        {
            Emit(halves.Left, unmerged, ids);
            Emit(halves.Right, unmerged, ids);
        }
        else if (id == _unknownId && _byteFallback)
        {
            Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(symbol.Length)];
            foreach (var value in bytes[..Encoding.UTF8.GetBytes(symbol, bytes)]) ids.Add(_byteIds[value]);
        }
        else ids.Add(id);
    }
}
