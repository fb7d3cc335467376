using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>Writes a trained vocabulary as the tokenizer files of a Hugging Face Mistral checkpoint, each atomically.</summary>
public static class TokenizerDirectory
{
    public static void Write(string directory, IReadOnlyList<SentencePiece> pieces)
    {
        var model = SentencePieceModelWriter.Serialize(pieces);
        AtomicFile.Write(Path.Combine(directory, MistralTokenizer.ModelFileName), stream => stream.Write(model));
        AtomicFile.WriteAllText(Path.Combine(directory, HuggingFaceTokenizerConfig.ConfigFileName), HuggingFaceTokenizerConfig.TokenizerConfigJson());
        AtomicFile.WriteAllText(Path.Combine(directory, HuggingFaceTokenizerConfig.SpecialTokensMapFileName), HuggingFaceTokenizerConfig.SpecialTokensMapJson());
    }
}
