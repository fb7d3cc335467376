using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// The weights of a model directory, either one <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c>. Every header is read and cross-checked on open (a tensor in two
/// shards, or a shard that disagrees with the index, is an error); shards are mapped on first read.
/// Not thread-safe: give each thread its own instance.
/// </summary>
public sealed class SafeTensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";

    private readonly Dictionary<string, (SafeTensorInfo Info, string Shard)> _tensors;
    private readonly Dictionary<string, SafeTensorsFile> _openShards = new(StringComparer.Ordinal);

    private SafeTensorsCheckpoint(string directory, string sourcePath, List<SafeTensorsHeader> shards)
    {
        Directory = directory;
        SourcePath = sourcePath;
        _tensors = new(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            foreach (var info in shard.Tensors) _tensors.Add(info.Name, (info, shard.FilePath));
        }
        Tensors = shards.SelectMany(shard => shard.Tensors).ToArray();
    }

    public string Directory { get; }

    /// <summary>The file that lists the tensors: model.safetensors or the index. Errors about the set of tensors name it.</summary>
    public string SourcePath { get; }

    /// <summary>All tensors, shard by shard, in file order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafeTensorInfo Info(string name) => Locate(name).Info;

    /// <summary>The shard file that holds a tensor.</summary>
    public string FileOf(string name) => Locate(name).Shard;

    public static SafeTensorsCheckpoint Open(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new CheckpointException(directory, "model directory not found");
        var single = Path.Combine(directory, SingleFileName);
        var index = Path.Combine(directory, SafeTensorsIndex.FileName);
        bool hasSingle = File.Exists(single), hasIndex = File.Exists(index);
        if (hasSingle && hasIndex)
            throw new CheckpointException(directory, $"both {SingleFileName} and {SafeTensorsIndex.FileName} are present; which one holds the model is ambiguous");
        foreach (var file in new[] { single, index }.Where(File.Exists)) ModelFiles.RequireWithin(file, directory);
        if (hasSingle) return new SafeTensorsCheckpoint(directory, single, [SafeTensorsHeader.Read(single)]);
        if (hasIndex) return new SafeTensorsCheckpoint(directory, index, ReadShards(directory, index));
        throw new CheckpointException(directory, $"no model files: neither {SingleFileName} nor {SafeTensorsIndex.FileName} exists");
    }

    public void ReadFloats(string name, Span<float> destination, bool checkFinite = false) =>
        Shard(name).ReadFloats(name, destination, checkFinite);

    public float[] ReadFloats(string name, bool checkFinite = false) => Shard(name).ReadFloats(name, checkFinite);

    public void ReadRawBytes(string name, Span<byte> destination) => Shard(name).ReadRawBytes(name, destination);

    private static List<SafeTensorsHeader> ReadShards(string directory, string indexPath)
    {
        var index = SafeTensorsIndex.Read(indexPath);
        var shards = new List<SafeTensorsHeader>();
        foreach (var shardName in index.WeightMap.Values.Distinct(StringComparer.Ordinal))
        {
            var shardPath = Path.Combine(directory, shardName);
            if (!File.Exists(shardPath))
                throw new CheckpointException(indexPath, $"the weight map names shard '{shardName}', which does not exist");
            ModelFiles.RequireWithin(shardPath, directory);
            shards.Add(SafeTensorsHeader.Read(shardPath));
        }

        // Duplicates first: a tensor in two shards is the worse problem, whatever the index says.
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            var shardName = Path.GetFileName(shard.FilePath);
            foreach (var info in shard.Tensors)
            {
                if (!owners.TryAdd(info.Name, shardName))
                    throw new CheckpointException(shard.FilePath, $"duplicate tensor '{info.Name}': shard '{owners[info.Name]}' holds it too");
            }
        }
        foreach (var (name, shardName) in owners)
        {
            if (!index.WeightMap.TryGetValue(name, out var listed))
                throw new CheckpointException(indexPath, $"shard '{shardName}' holds tensor '{name}', which the weight map does not list");
            if (listed != shardName)
                throw new CheckpointException(indexPath, $"tensor '{name}' is in shard '{shardName}' but the weight map places it in '{listed}'");
        }
        foreach (var (name, shardName) in index.WeightMap)
        {
            if (!owners.ContainsKey(name))
                throw new CheckpointException(indexPath, $"the weight map places tensor '{name}' in shard '{shardName}', which does not hold it");
        }
        return shards;
    }

    private (SafeTensorInfo Info, string Shard) Locate(string name) =>
        _tensors.TryGetValue(name, out var found) ? found : throw new CheckpointException(SourcePath, $"no tensor named '{name}'");

    private SafeTensorsFile Shard(string name)
    {
        var path = Locate(name).Shard;
        if (!_openShards.TryGetValue(path, out var file))
        {
            file = SafeTensorsFile.Open(path);
            _openShards.Add(path, file);
        }
        return file;
    }

    public void Dispose()
    {
        foreach (var file in _openShards.Values) file.Dispose();
        _openShards.Clear();
    }
}
