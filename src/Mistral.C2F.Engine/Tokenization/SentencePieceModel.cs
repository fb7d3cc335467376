namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// What encoding needs of a SentencePiece <c>ModelProto</c>: every piece with its score and type, and the normalizer's
/// whitespace rules. Microsoft.ML.Tokenizers validates the same file; this reads the scores it does not expose.
/// </summary>
internal sealed record SentencePieceModel(IReadOnlyList<SentencePiece> Pieces, bool AddDummyPrefix, bool RemoveExtraWhitespaces,
    bool EscapeWhitespaces, bool TreatWhitespaceAsSuffix, string NormalizerName, bool HasCharacterMap)
{
    private const int PiecesField = 1, TrainerSpecField = 2, NormalizerSpecField = 3;

    /// <summary>Reads the model; errors name <paramref name="modelPath"/>.</summary>
    public static SentencePieceModel Read(ReadOnlySpan<byte> bytes, string modelPath)
    {
        try
        {
            var pieces = new List<SentencePiece>();
            bool addDummyPrefix = true, removeExtraWhitespaces = true, escapeWhitespaces = true, suffix = false, characterMap = false;
            string normalizer = "nmt_nfkc";  // the proto's defaults, for fields a file leaves out
            var model = new ProtobufReader(bytes);
            while (model.TryReadField(out var field))
                switch (field)
                {
                    case PiecesField: pieces.Add(ReadPiece(model.ReadBytes())); break;
                    case TrainerSpecField:
                        var trainer = new ProtobufReader(model.ReadBytes());
                        while (trainer.TryReadField(out var trainerField))
                            if (trainerField == 24) suffix = trainer.ReadBool(); else trainer.Skip();
                        break;
                    case NormalizerSpecField:
                        var spec = new ProtobufReader(model.ReadBytes());
                        while (spec.TryReadField(out var specField))
                            switch (specField)
                            {
                                case 1: normalizer = spec.ReadString(); break;
                                case 2: characterMap = spec.ReadBytes().Length > 0; break;
                                case 3: addDummyPrefix = spec.ReadBool(); break;
                                case 4: removeExtraWhitespaces = spec.ReadBool(); break;
                                case 5: escapeWhitespaces = spec.ReadBool(); break;
                                default: spec.Skip(); break;
                            }
                        break;
                    default: model.Skip(); break;
                }
            return new SentencePieceModel(pieces, addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces, suffix, normalizer, characterMap);
        }
        catch (InvalidDataException exception)
        {
            throw new InvalidDataException($"'{modelPath}' is not a readable SentencePiece model: {exception.Message}", exception);
        }
    }

    private static SentencePiece ReadPiece(ReadOnlySpan<byte> bytes)
    {
        var entry = new ProtobufReader(bytes);
        (string piece, float score, var type) = ("", 0f, SentencePieceType.Normal);
        while (entry.TryReadField(out var field))
            switch (field)
            {
                case 1: piece = entry.ReadString(); break;
                case 2: score = entry.ReadFloat(); break;
                case 3: type = (SentencePieceType)entry.ReadInt64(); break;
                default: entry.Skip(); break;
            }
        return new SentencePiece(piece, score, type);
    }
}
