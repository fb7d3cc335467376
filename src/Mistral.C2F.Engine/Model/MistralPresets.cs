using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Model;

/// <summary>Named architectures for <c>c2f init</c>: tiny for tests and demos, small for benchmarks, and Mistral-7B-v0.1.</summary>
public static class MistralPresets
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "small", "mistral-7b"];

    public static MistralConfig Get(string name) => name switch
    {
        "tiny" => new MistralConfig
        {
            VocabSize = BuiltInTokenizer.DefaultVocabularySize, HiddenSize = 128, IntermediateSize = 352, NumHiddenLayers = 4,
            NumAttentionHeads = 4, NumKeyValueHeads = 2, SlidingWindow = 256, MaxPositionEmbeddings = 2048,
            RmsNormEps = 1e-5, RopeTheta = 10000, TorchDtype = "float32",
        },
        // The training-benchmark shape of the roadmap: Mistral's vocabulary on a 4-layer, 512-wide body.
        "small" => new MistralConfig
        {
            VocabSize = 32000, HiddenSize = 512, IntermediateSize = 1408, NumHiddenLayers = 4,
            NumAttentionHeads = 8, NumKeyValueHeads = 2, SlidingWindow = 4096, MaxPositionEmbeddings = 8192,
            RmsNormEps = 1e-5, RopeTheta = 10000, TorchDtype = "float32",
        },
        "mistral-7b" => new MistralConfig
        {
            VocabSize = 32000, HiddenSize = 4096, IntermediateSize = 14336, NumHiddenLayers = 32,
            NumAttentionHeads = 32, NumKeyValueHeads = 8, SlidingWindow = 4096, MaxPositionEmbeddings = 32768,
            RmsNormEps = 1e-5, RopeTheta = 10000, TorchDtype = "bfloat16",
        },
        _ => throw new ArgumentException($"unknown preset '{name}'; choose one of {string.Join(", ", Names)}"),
    };
}
