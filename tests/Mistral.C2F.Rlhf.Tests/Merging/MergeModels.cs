using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Rlhf.Tests.Merging;

/// <summary>
/// Small checkpoints for merge tests: every model is the same random base plus its own noise in every tensor (norms
/// included), the way fine-tunes of one base differ. 21 tensors, 6 K parameters.
/// </summary>
internal static class MergeModels
{
    public static MistralConfig Config { get; } = new()
    {
        VocabSize = 64, HiddenSize = 16, IntermediateSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        TorchDtype = "float32",
    };

    public static string Write(string directory, int seed, MistralConfig? config = null, long maxShardBytes = MistralCheckpoint.DefaultMaxShardBytes,
        DType storage = DType.F32, string? poisonedTensor = null)
    {
        var random = new Random(seed);
        MistralCheckpoint.SaveParameters(directory, config ?? Config, (name, _, values) =>
        {
            RandomInitializer.Fill(name, seed: 0, values);
            for (int i = 0; i < values.Length; i++) values[i] += 0.01f * (2 * random.NextSingle() - 1);
            if (name == poisonedTensor) values[^1] = float.NaN;
        }, storage, maxShardBytes);
        return directory;
    }

    /// <summary>Rewrites model.safetensors with each tensor's header changed (or dropped, for null) and its bytes kept.</summary>
    public static void Rewrite(string directory, Func<SafeTensorInfo, SafeTensorInfo?> change)
    {
        List<(SafeTensorInfo Info, byte[] Bytes)> tensors;
        using (var checkpoint = SafeTensorsCheckpoint.Open(directory))
        {
            tensors = checkpoint.Tensors.Select(info =>
            {
                var bytes = new byte[info.ByteLength];
                checkpoint.ReadRawBytes(info.Name, bytes);
                return (info, bytes);
            }).ToList();
        }
        var kept = tensors.Select(tensor => (Info: change(tensor.Info), tensor.Bytes)).Where(tensor => tensor.Info is not null).ToList();
        using var writer = new SafeTensorsWriter(Path.Combine(directory, SafeTensorsCheckpoint.SingleFileName), kept.Select(tensor => tensor.Info!));
        foreach (var (info, bytes) in kept) writer.WriteRaw(info!.Name, bytes);
        writer.Commit();
    }

    /// <summary>Every tensor of a model directory, as float32.</summary>
    public static Dictionary<string, float[]> Read(string directory)
    {
        using var checkpoint = SafeTensorsCheckpoint.Open(directory);
        return checkpoint.Tensors.ToDictionary(info => info.Name, info => checkpoint.ReadFloats(info.Name));
    }
}
