using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// Models can be merged only when they share the architecture and hold exactly the same tensors with the same
/// shapes. Every mismatch is a <see cref="CheckpointException"/> on the offending model's file, naming the tensor or key.
/// </summary>
internal static class MergeCompatibility
{
    /// <summary>The config.json keys that fix tensor shapes.</summary>
    private static readonly (string Key, Func<MistralConfig, string> Value)[] ShapeKeys =
    [
        ("vocab_size", c => c.VocabSize.ToString()),
        ("hidden_size", c => c.HiddenSize.ToString()),
        ("intermediate_size", c => c.IntermediateSize.ToString()),
        ("num_hidden_layers", c => c.NumHiddenLayers.ToString()),
        ("num_attention_heads", c => c.NumAttentionHeads.ToString()),
        ("num_key_value_heads", c => c.NumKeyValueHeads.ToString()),
        ("head_dim", c => c.HeadDim.ToString()),
        ("tie_word_embeddings", c => c.TieWordEmbeddings ? "true" : "false"),
    ];

    public static void RequireSameArchitecture(MergeInput reference, IEnumerable<MergeInput> others)
    {
        var expected = MistralCheckpoint.LoadConfig(reference.Directory);
        foreach (var other in others)
        {
            var config = MistralCheckpoint.LoadConfig(other.Directory);
            foreach (var (key, value) in ShapeKeys)
            {
                if (value(config) != value(expected))
                    throw new CheckpointException(ConfigPath(other), $"the {other.Role} model has {key} {value(config)}, but the {reference.Role} model " +
                        $"({ConfigPath(reference)}) has {value(expected)}; merged models must share the architecture");
            }
        }
    }

    public static void RequireSameTensors(MergeInput reference, IEnumerable<MergeInput> others)
    {
        RequireFloatTensors(reference);
        var expected = reference.Checkpoint;
        foreach (var other in others)
        {
            RequireFloatTensors(other);
            var checkpoint = other.Checkpoint;
            var missing = expected.Tensors.Where(info => !checkpoint.Contains(info.Name)).Select(info => info.Name).ToList();
            if (missing.Count > 0)
                throw new CheckpointException(checkpoint.SourcePath,
                    $"the {other.Role} model lacks tensor '{missing[0]}'{More(missing)}, which the {reference.Role} model has");
            var extra = checkpoint.Tensors.Where(info => !expected.Contains(info.Name)).Select(info => info.Name).ToList();
            if (extra.Count > 0)
                throw new CheckpointException(checkpoint.SourcePath,
                    $"the {other.Role} model has tensor '{extra[0]}'{More(extra)}, which the {reference.Role} model lacks");
            foreach (var info in expected.Tensors)
            {
                var shape = checkpoint.Info(info.Name).Shape;
                if (!shape.Equals(info.Shape))
                    throw new CheckpointException(checkpoint.FileOf(info.Name),
                        $"tensor '{info.Name}' of the {other.Role} model has shape {shape}, but the {reference.Role} model's is {info.Shape}");
            }
        }
    }

    private static void RequireFloatTensors(MergeInput input)
    {
        foreach (var info in input.Checkpoint.Tensors)
        {
            if (!SafeTensorsDTypes.ReadableAsFloat.Contains(info.DType))
                throw new CheckpointException(input.Checkpoint.FileOf(info.Name),
                    $"tensor '{info.Name}' of the {input.Role} model is {info.DType.FormatName()}; only floating-point tensors can be merged");
        }
    }

    private static string ConfigPath(MergeInput input) => Path.Combine(input.Directory, MistralCheckpoint.ConfigFileName);

    private static string More(List<string> names) => names.Count > 1 ? $" (and {names.Count - 1} more)" : "";
}
