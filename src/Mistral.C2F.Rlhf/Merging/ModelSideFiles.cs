using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>Everything of a model directory but its weights: config.json and the tokenizer, taken from one input model.</summary>
internal static class ModelSideFiles
{
    /// <summary>Copied when present. generation_config.json rides along: it holds the stop tokens the chat model was tuned for.</summary>
    private static readonly string[] CopiedFiles =
        ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "generation_config.json"];

    /// <summary>The output storage type when none is asked for: the model's torch_dtype, or float32 when that is not a storage type.</summary>
    public static DType DefaultStorage(string modelDirectory)
    {
        var torchDtype = MistralCheckpoint.LoadConfig(modelDirectory).TorchDtype;
        return torchDtype is "float32" or "bfloat16" or "float16" ? MistralCheckpoint.ParseStorage(torchDtype) : DType.F32;
    }

    /// <summary>
    /// Writes <paramref name="source"/>'s config.json into <paramref name="target"/> with torch_dtype set to the storage
    /// type (every other key kept as it is), and copies the tokenizer files.
    /// </summary>
    public static void Copy(string source, string target, DType storage)
    {
        var configPath = Path.Combine(source, MistralCheckpoint.ConfigFileName);
        var config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
            ?? throw new CheckpointException(configPath, "config.json is not a JSON object");
        config["torch_dtype"] = MistralCheckpoint.TorchDtypeName(storage);
        File.WriteAllText(Path.Combine(target, MistralCheckpoint.ConfigFileName), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        foreach (var name in CopiedFiles)
        {
            var path = Path.Combine(source, name);
            if (File.Exists(path)) File.Copy(path, Path.Combine(target, name));
        }
    }
}
