namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// How tensors are split into shards, as Hugging Face does: in order, a new shard whenever the next
/// tensor would push the current one past the limit (tensor bytes only; a larger tensor gets a shard of its own).
/// </summary>
internal static class ShardPlan
{
    public static List<List<SafeTensorInfo>> Split(IReadOnlyList<SafeTensorInfo> tensors, long maxShardBytes)
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes), maxShardBytes, "the shard size limit must be positive");
        var shards = new List<List<SafeTensorInfo>> { new() };
        long currentBytes = 0;
        foreach (var info in tensors)
        {
            if (shards[^1].Count > 0 && currentBytes + info.ByteLength > maxShardBytes)
            {
                shards.Add([]);
                currentBytes = 0;
            }
            shards[^1].Add(info);
            currentBytes += info.ByteLength;
        }
        return shards;
    }

    /// <summary>model.safetensors for one shard, else model-00001-of-0000N.safetensors …</summary>
    public static string FileName(int shard, int count) =>
        count == 1 ? SafeTensorsCheckpoint.SingleFileName : $"model-{shard + 1:D5}-of-{count:D5}.safetensors";

    public static bool IsShardFileName(string fileName) =>
        System.Text.RegularExpressions.Regex.IsMatch(fileName, @"^model-\d{5}-of-\d{5}\.safetensors$");
}
