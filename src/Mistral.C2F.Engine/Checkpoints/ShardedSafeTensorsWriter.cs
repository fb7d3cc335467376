namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// Writes the weights of a model directory: <c>model.safetensors</c> when everything fits in one shard,
/// else <c>model-0000i-of-0000N.safetensors</c> plus <c>model.safetensors.index.json</c>. Data streams in
/// tensor by tensor like <see cref="SafeTensorsWriter"/>.
/// </summary>
/// <remarks>
/// Every shard is written and flushed under a temporary name before anything in the directory changes,
/// so a failure while producing data leaves a previous checkpoint intact. <see cref="Commit"/> then
/// removes the old index, renames the shards, writes the new index last, and deletes weight files of
/// the previous checkpoint that the new one does not replace, so the directory never holds a mix of two.
/// </remarks>
public sealed class ShardedSafeTensorsWriter : IDisposable
{
    private readonly SafeTensorsWriter[] _shards;
    private readonly Dictionary<string, SafeTensorsWriter> _shardOf = new(StringComparer.Ordinal);

    public ShardedSafeTensorsWriter(string directory, IEnumerable<SafeTensorInfo> tensors, long maxShardBytes)
    {
        Directory = Path.GetFullPath(directory);
        var declared = tensors.ToArray();
        var plan = ShardPlan.Split(declared, maxShardBytes);
        FileNames = plan.Select((_, shard) => ShardPlan.FileName(shard, plan.Count)).ToArray();
        _shards = new SafeTensorsWriter[plan.Count];
        try
        {
            for (int shard = 0; shard < plan.Count; shard++)
            {
                _shards[shard] = new SafeTensorsWriter(Path.Combine(Directory, FileNames[shard]), plan[shard]);
                foreach (var info in plan[shard])
                {
                    if (!_shardOf.TryAdd(info.Name, _shards[shard]))
                        throw new ArgumentException($"{Directory}: tensor '{info.Name}' is declared twice");
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        Index = plan.Count == 1 ? null
            : new SafeTensorsIndex(declared.Sum(info => info.ByteLength), plan
                .SelectMany((shard, i) => shard.Select(info => (info.Name, File: FileNames[i])))
                .ToDictionary(pair => pair.Name, pair => pair.File, StringComparer.Ordinal));
    }

    public string Directory { get; }

    /// <summary>The weight files this writer produces, in shard order.</summary>
    public IReadOnlyList<string> FileNames { get; }

    /// <summary>The index written on commit; null when the weights fit in one file.</summary>
    public SafeTensorsIndex? Index { get; }

    public void Write(string name, ReadOnlySpan<float> values)
    {
        var shard = ShardOf(name);
        shard.Write(name, values);
        CloseWhenComplete(shard);
    }

    public void WriteRaw(string name, ReadOnlySpan<byte> bytes)
    {
        var shard = ShardOf(name);
        shard.WriteRaw(name, bytes);
        CloseWhenComplete(shard);
    }

    public void Commit()
    {
        foreach (var shard in _shards) shard.Finish();
        var indexPath = Path.Combine(Directory, SafeTensorsIndex.FileName);
        // An old index next to new shards of the same names would describe a mix of two checkpoints.
        File.Delete(indexPath);
        foreach (var shard in _shards) shard.Commit();
        Index?.Write(indexPath);
        RemoveStaleWeightFiles();
    }

    public void Dispose()
    {
        foreach (var shard in _shards) shard?.Dispose();
    }

    private SafeTensorsWriter ShardOf(string name) =>
        _shardOf.TryGetValue(name, out var shard) ? shard : throw new ArgumentException($"{Directory}: tensor '{name}' was not declared");

    // Closing finished shards early keeps one open file per shard still being written, not one per shard.
    private static void CloseWhenComplete(SafeTensorsWriter shard)
    {
        if (shard.IsComplete) shard.Finish();
    }

    private void RemoveStaleWeightFiles()
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            var name = Path.GetFileName(path);
            bool weightFile = name == SafeTensorsCheckpoint.SingleFileName || ShardPlan.IsShardFileName(name);
            if (weightFile && !FileNames.Contains(name)) File.Delete(path);
        }
    }
}
