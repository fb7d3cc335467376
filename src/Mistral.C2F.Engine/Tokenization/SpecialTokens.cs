namespace Mistral.C2F.Engine.Tokenization;

/// <summary>The fixed Llama/Mistral layout of the special pieces: unknown, begin and end of sequence at ids 0, 1, 2; no pad.</summary>
public static class SpecialTokens
{
    public const string Unknown = "<unk>";
    public const string BeginOfSequence = "<s>";
    public const string EndOfSequence = "</s>";
    public const string Padding = "<pad>";

    public const int UnknownId = 0;
    public const int BeginOfSequenceId = 1;
    public const int EndOfSequenceId = 2;
    public const int NoPaddingId = -1;
}
