using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// <c>model.safetensors.index.json</c>: <c>{"metadata": {"total_size": bytes}, "weight_map": {tensor: shard file}}</c>.
/// total_size is informative (the sum of tensor bytes); loaders go by the weight map and the shards' headers.
/// </summary>
public sealed record SafeTensorsIndex(long? TotalSize, IReadOnlyDictionary<string, string> WeightMap)
{
    public const string FileName = "model.safetensors.index.json";

    public static SafeTensorsIndex Read(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"malformed JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointException(path, "file not found", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, $"the index is a JSON {root.ValueKind}, not an object");
            return new SafeTensorsIndex(ReadTotalSize(root, path), ReadWeightMap(root, path));
        }
    }

    public void Write(string path)
    {
        var weightMap = new JsonObject();
        foreach (var (name, shard) in WeightMap) weightMap[name] = shard;
        var metadata = new JsonObject();
        if (TotalSize is { } total) metadata["total_size"] = total;
        var json = new JsonObject { ["metadata"] = metadata, ["weight_map"] = weightMap };
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static long? ReadTotalSize(JsonElement root, string path)
    {
        if (!root.TryGetProperty("metadata", out var metadata)) return null;
        if (metadata.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, $"'metadata' is a JSON {metadata.ValueKind}, not an object");
        if (!metadata.TryGetProperty("total_size", out var total)) return null;
        // Some writers store total_size as a float such as 1.4e10; accept any whole, non-negative number.
        if (total.ValueKind != JsonValueKind.Number || !total.TryGetDouble(out double value) || value < 0 || value != Math.Floor(value) || value > long.MaxValue)
            throw new CheckpointException(path, $"'metadata.total_size' {total.GetRawText()} is not a non-negative whole number");
        return (long)value;
    }

    private static Dictionary<string, string> ReadWeightMap(JsonElement root, string path)
    {
        if (!root.TryGetProperty("weight_map", out var map))
            throw new CheckpointException(path, "missing 'weight_map'");
        if (map.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, $"'weight_map' is a JSON {map.ValueKind}, not an object");
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in map.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(path, $"weight_map entry '{item.Name}' is a JSON {item.Value.ValueKind}, not a file name");
            var shard = item.Value.GetString()!;
            // A shard must be a plain file next to the index: no directories, no escaping the model folder.
            if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\'))
                throw new CheckpointException(path, $"weight_map entry '{item.Name}' names '{shard}', which is not a file name in the model directory");
            if (!weightMap.TryAdd(item.Name, shard))
                throw new CheckpointException(path, $"weight_map names tensor '{item.Name}' twice");
        }
        return weightMap;
    }
}
