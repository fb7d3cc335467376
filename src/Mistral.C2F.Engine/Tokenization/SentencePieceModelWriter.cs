namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// Serializes a piece list as a SentencePiece <c>ModelProto</c> (sentencepiece_model.proto) with the settings of the
/// Mistral/Llama tokenizer: BPE, byte fallback, digits split, unk/bos/eos at 0/1/2, no pad, identity normalizer that
/// escapes spaces as "▁", adds a dummy prefix and keeps repeated spaces.
/// </summary>
internal static class SentencePieceModelWriter
{
    private const int BpeModelType = 2;

    /// <param name="addDummyPrefix">Whether the normalizer puts "▁" before the text (Mistral's do).</param>
    public static byte[] Serialize(IReadOnlyList<SentencePiece> pieces, bool addDummyPrefix = true)
    {
        RequireMistralSpecialLayout(pieces);
        var model = new ProtobufWriter();
        foreach (var piece in pieces)
            model.WriteMessage(1, entry =>
            {
                entry.WriteString(1, piece.Piece);
                entry.WriteFloat(2, piece.Score);
                entry.WriteInt32(3, (int)piece.Type);
            });
        model.WriteMessage(2, trainer => WriteTrainerSpec(trainer, pieces.Count));
        model.WriteMessage(3, normalizer => WriteNormalizerSpec(normalizer, addDummyPrefix));
        return model.ToArray();
    }

    // Every field is written explicitly, defaults included, so the file says what it means without the .proto at hand.
    private static void WriteTrainerSpec(ProtobufWriter spec, int vocabularySize)
    {
        spec.WriteInt32(3, BpeModelType);
        spec.WriteInt32(4, vocabularySize);
        spec.WriteFloat(10, 1f); // character_coverage: every character of the corpus alphabet is kept
        spec.WriteInt32(20, MergeRules.MaxPieceLength);
        spec.WriteBool(21, true); // split_by_unicode_script
        spec.WriteBool(22, true); // split_by_whitespace
        spec.WriteBool(23, true); // split_by_number
        spec.WriteBool(24, false); // treat_whitespace_as_suffix
        spec.WriteBool(25, true); // split_digits
        spec.WriteBool(26, true); // allow_whitespace_only_pieces
        spec.WriteBool(35, true); // byte_fallback
        spec.WriteInt32(40, SpecialTokens.UnknownId);
        spec.WriteInt32(41, SpecialTokens.BeginOfSequenceId);
        spec.WriteInt32(42, SpecialTokens.EndOfSequenceId);
        spec.WriteInt32(43, SpecialTokens.NoPaddingId);
        spec.WriteString(45, SpecialTokens.Unknown);
        spec.WriteString(46, SpecialTokens.BeginOfSequence);
        spec.WriteString(47, SpecialTokens.EndOfSequence);
        spec.WriteString(48, SpecialTokens.Padding);
    }

    private static void WriteNormalizerSpec(ProtobufWriter spec, bool addDummyPrefix)
    {
        spec.WriteString(1, "identity");
        spec.WriteBool(3, addDummyPrefix);
        spec.WriteBool(4, false); // remove_extra_whitespaces (the proto default is true; Mistral keeps every space)
        spec.WriteBool(5, true); // escape_whitespaces
    }

    private static void RequireMistralSpecialLayout(IReadOnlyList<SentencePiece> pieces)
    {
        static bool Is(IReadOnlyList<SentencePiece> pieces, int id, string text, SentencePieceType type) =>
            pieces.Count > id && pieces[id].Piece == text && pieces[id].Type == type;

        if (!Is(pieces, SpecialTokens.UnknownId, SpecialTokens.Unknown, SentencePieceType.Unknown)
            || !Is(pieces, SpecialTokens.BeginOfSequenceId, SpecialTokens.BeginOfSequence, SentencePieceType.Control)
            || !Is(pieces, SpecialTokens.EndOfSequenceId, SpecialTokens.EndOfSequence, SentencePieceType.Control))
            throw new ArgumentException("Pieces 0, 1, 2 must be <unk> (unknown), <s> and </s> (control), as in Mistral's tokenizer.", nameof(pieces));
    }
}
