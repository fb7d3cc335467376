using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>A randomly initialised model directory with the built-in tokenizer, written one tensor at a time.</summary>
public static class RandomCheckpoint
{
    /// <param name="progress">Called with the element count of each tensor as it is written.</param>
    public static void Write(string directory, MistralConfig config, int seed, DType storage = DType.F32,
        long maxShardBytes = MistralCheckpoint.DefaultMaxShardBytes, Action<long>? progress = null)
    {
        MistralCheckpoint.SaveParameters(directory, config, (name, shape, destination) =>
        {
            RandomInitializer.Fill(name, seed, destination);
            progress?.Invoke(shape.ElementCount);
        }, storage, maxShardBytes);
        BuiltInTokenizer.Write(directory, config.VocabSize);
    }
}
