namespace Mistral.C2F.Engine.Tokenization;

/// <summary>SentencePiece's textual conventions shared by the trainer, which writes pieces, and the tokenizer, which reads them.</summary>
public static class SentencePieceText
{
    /// <summary>The escaped space "▁": the normalizer turns every ' ' into it and prefixes one to the text (the dummy prefix).</summary>
    public const char WordBoundary = '\u2581';

    /// <summary>The name of the byte-fallback piece for one byte, e.g. "&lt;0x0A&gt;".</summary>
    public static string BytePiece(int value) => $"<0x{value:X2}>";
}
