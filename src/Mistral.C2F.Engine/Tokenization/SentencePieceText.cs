namespace Mistral.C2F.Engine.Tokenization;

/// <summary>SentencePiece's textual conventions shared by the trainer, which writes pieces, and the tokenizer, which reads them.</summary>
public static class SentencePieceText
{
    /// <summary>The escaped space "▁": the normalizer turns every ' ' into it and prefixes one to the text (the dummy prefix).</summary>
    public const char WordBoundary = '\u2581';

    /// <summary>The name of the byte-fallback piece for one byte, e.g. "&lt;0x0A&gt;".</summary>
    public static string BytePiece(int value) => $"<0x{value:X2}>";

    /// <summary>Whether <paramref name="piece"/> is a byte-fallback piece's name, spelled exactly as <see cref="BytePiece"/> spells it.</summary>
    public static bool TryParseBytePiece(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal)
            && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out value)
            && piece == BytePiece(value);
    }
}
