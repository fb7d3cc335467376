using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Rlhf.Tests.Support;

/// <summary>A very small random Mistral checkpoint with the built-in tokenizer, for trainer tests.</summary>
public static class TinyCheckpoint
{
    public static MistralConfig Config { get; } = new()
    {
        VocabSize = BuiltInTokenizer.DefaultVocabularySize, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, SlidingWindow = 16, RmsNormEps = 1e-5, TorchDtype = "float32",
    };

    public static string Write(string directory, int seed = 1)
    {
        RandomCheckpoint.Write(directory, Config, seed);
        return directory;
    }
}
