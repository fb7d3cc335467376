namespace Mistral.C2F.Engine.Tokenization;

/// <summary>The piece types of SentencePiece's <c>ModelProto.SentencePiece.Type</c>, with their wire values.</summary>
public enum SentencePieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>One vocabulary entry of a SentencePiece model; its id is its index in the piece list.</summary>
public readonly record struct SentencePiece(string Piece, float Score, SentencePieceType Type);
