namespace Mistral.C2F.Engine.Tokenization;

/// <summary>The project's own tokenizer: BPE trained on <see cref="BuiltInCorpus"/>, built offline and deterministically.</summary>
public static class BuiltInTokenizer
{
    /// <summary>
    /// Where compression on the corpus levels off (about 2.7 characters per token); beyond it the merges mostly
    /// memorize words seen once, and the corpus runs out of pairs at about 1200 pieces.
    /// </summary>
    public const int DefaultVocabularySize = 768;

    /// <summary>
    /// Trains on the built-in corpus and writes tokenizer.model, tokenizer_config.json and special_tokens_map.json.
    /// A model vocabulary larger than <see cref="DefaultVocabularySize"/> (Mistral's 32000) is filled with
    /// unused pieces, so every id the model can emit has a piece while encoding never produces them.
    /// </summary>
    public static void Write(string directory, int vocabularySize = DefaultVocabularySize)
    {
        var pieces = TokenizerTrainer.Train(BuiltInCorpus.Text, Math.Min(vocabularySize, DefaultVocabularySize)).ToList();
        for (int id = pieces.Count; id < vocabularySize; id++)
            pieces.Add(new SentencePiece($"<unused{id}>", 0f, SentencePieceType.Unused));
        TokenizerDirectory.Write(directory, pieces);
    }
}
