using Mistral.C2F.Engine.IO;
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

    /// <summary>
    /// Writes the model into <paramref name="directory"/> unless a complete one (config, weights, tokenizer) is there; all
    /// at once (<see cref="StagedDirectory"/>), so a kill never leaves a partial model that a rerun would take as done.
    /// The same seed gives the same model, so replacing an incomplete directory changes nothing a resumed run relies on.
    /// </summary>
    public static void Ensure(string directory, MistralConfig config, int seed)
    {
        bool complete = File.Exists(Path.Combine(directory, MistralCheckpoint.ConfigFileName))
            && File.Exists(Path.Combine(directory, MistralTokenizer.ModelFileName))
            && (File.Exists(Path.Combine(directory, SafeTensorsCheckpoint.SingleFileName)) || File.Exists(Path.Combine(directory, SafeTensorsIndex.FileName)));
        if (!complete) StagedDirectory.Write(directory, replace: true, staging => Write(staging, config, seed));
    }
}
