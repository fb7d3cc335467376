using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Engine.Training;

/// <summary>
/// What one forward and backward pass over a number of tokens keeps in memory, estimated from the architecture, so that a
/// batch or sequence length that cannot fit fails at once with the sizes named, not after minutes of allocation.
/// </summary>
public static class ActivationMemory
{
    /// <summary>
    /// Bytes of the activations the tape keeps and of their gradients (about as many again) for <paramref name="tokens"/>
    /// tokens: per layer the residual stream, norms, q, k, v, attention and MLP values, and the logits with their gradient.
    /// A floor, not a ceiling: workspaces come on top.
    /// </summary>
    public static double Estimate(MistralConfig config, double tokens, int bytesPerValue = 4)
    {
        double perLayer = 8.0 * config.HiddenSize + 2.0 * (config.NumAttentionHeads + config.NumKeyValueHeads) * config.HeadDim
            + 3.0 * config.IntermediateSize;
        double logits = config.IsSequenceClassifier ? 1 : config.VocabSize;
        return tokens * bytesPerValue * (2 * config.NumHiddenLayers * perLayer + 2 * logits);
    }

    /// <summary>Fails, naming <paramref name="what"/>, when the estimate exceeds the backend's memory (where the backend knows it).</summary>
    public static void RequireFits(MistralConfig config, double tokens, Backend backend, string what)
    {
        if (backend.MemoryBytes is not long memory) return;
        double needed = Estimate(config, tokens);
        if (needed > memory)
            throw new ArgumentException($"{what}: {tokens:0} tokens per forward pass need about {needed / (1L << 30):0.#} GiB of activations, " +
                $"more than the {memory / (double)(1L << 30):0.#} GiB of the {backend.Name} backend's memory");
    }
}
