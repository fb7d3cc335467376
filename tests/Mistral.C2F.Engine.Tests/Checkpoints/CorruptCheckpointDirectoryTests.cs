using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using static Mistral.C2F.Engine.Tests.Checkpoints.SafeTensorsSurgery;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

/// <summary>
/// Damaged model directories: each test saves a valid three-shard checkpoint ("a" and "b" in shard 1,
/// "c" in shard 2, "d" in shard 3) and then damages the index or the shards.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class CorruptCheckpointDirectoryTests : IDisposable
{
    private const string Shard1 = "model-00001-of-00003.safetensors";
    private const string Shard2 = "model-00002-of-00003.safetensors";
    private const string Shard3 = "model-00003-of-00003.safetensors";

    private readonly TemporaryDirectory _directory = new();
    private readonly string _index;

    public CorruptCheckpointDirectoryTests()
    {
        _index = _directory.File(SafeTensorsIndex.FileName);
        SafeTensorInfo[] tensors =
        [
            new("a", SafeTensorsDType.F32, new Shape(4)), new("b", SafeTensorsDType.F32, new Shape(4)),
            new("c", SafeTensorsDType.F32, new Shape(8)), new("d", SafeTensorsDType.F32, new Shape(8)),
        ];
        using var writer = new ShardedSafeTensorsWriter(_directory.Path, tensors, maxShardBytes: 32);
        foreach (var info in tensors) writer.Write(info.Name, new float[info.Shape.ElementCount]);
        writer.Commit();
    }

    public void Dispose() => _directory.Dispose();

    private void AssertOpenFails(string file, params string[] problem) =>
        AssertRejected(() => SafeTensorsCheckpoint.Open(_directory.Path).Dispose(), file, problem);

    private void EditIndex(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(_index))!.AsObject();
        edit(json);
        File.WriteAllText(_index, json.ToJsonString());
    }

    [Fact]
    public void The_undamaged_directory_opens()
    {
        using var checkpoint = SafeTensorsCheckpoint.Open(_directory.Path);
        Assert.Equal(["a", "b", "c", "d"], checkpoint.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void A_malformed_index()
    {
        File.WriteAllText(_index, "{\"weight_map\": {\"a\": ");
        AssertOpenFails(_index, "malformed JSON");
    }

    [Theory]
    [InlineData("[]", "the index is a JSON Array, not an object")]
    [InlineData("{\"metadata\": {}}", "missing 'weight_map'")]
    [InlineData("{\"weight_map\": [\"a\"]}", "'weight_map' is a JSON Array, not an object")]
    [InlineData("{\"weight_map\": {\"a\": 1}}", "weight_map entry 'a' is a JSON Number, not a file name")]
    [InlineData("{\"weight_map\": {\"a\": \"../model-00001-of-00003.safetensors\"}}", "not a file name in the model directory")]
    [InlineData("{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}", "names tensor 'a' twice")]
    [InlineData("{\"metadata\": [], \"weight_map\": {}}", "'metadata' is a JSON Array")]
    [InlineData("{\"metadata\": {\"total_size\": \"96\"}, \"weight_map\": {}}", "'metadata.total_size' \"96\" is not a non-negative whole number")]
    [InlineData("{\"metadata\": {\"total_size\": -1}, \"weight_map\": {}}", "is not a non-negative whole number")]
    public void An_index_of_the_wrong_structure(string json, string problem)
    {
        File.WriteAllText(_index, json);
        AssertOpenFails(_index, problem);
    }

    [Fact]
    public void An_index_that_names_a_missing_shard()
    {
        File.Delete(_directory.File(Shard2));
        AssertOpenFails(_index, $"names shard '{Shard2}', which does not exist");
    }

    [Fact]
    public void A_tensor_in_two_shards()
    {
        // Shard 3 now holds "c" (like shard 2) instead of "d".
        EditHeaderText(_directory.File(Shard3), header => header.Replace("\"d\":", "\"c\":", StringComparison.Ordinal));
        AssertOpenFails(Shard3, "duplicate tensor 'c'", $"shard '{Shard2}' holds it too");
    }

    [Fact]
    public void A_shard_holding_a_tensor_the_index_does_not_list()
    {
        EditIndex(index => index["weight_map"]!.AsObject().Remove("b"));
        AssertOpenFails(_index, $"shard '{Shard1}' holds tensor 'b', which the weight map does not list");
    }

    [Fact]
    public void An_index_that_places_a_tensor_in_the_wrong_shard()
    {
        EditIndex(index => index["weight_map"]!["b"] = Shard2);
        AssertOpenFails(_index, $"tensor 'b' is in shard '{Shard1}' but the weight map places it in '{Shard2}'");
    }

    [Fact]
    public void An_index_that_lists_a_tensor_no_shard_holds()
    {
        EditIndex(index => index["weight_map"]!["e"] = Shard3);
        AssertOpenFails(_index, $"places tensor 'e' in shard '{Shard3}', which does not hold it");
    }

    [Fact]
    public void A_damaged_shard_is_named_as_itself()
    {
        EditData(_directory.File(Shard2), data => data[..^4]);
        AssertOpenFails(Shard2, "tensor 'c'", "outside the data region");
    }

    [Fact]
    public void A_directory_without_model_files()
    {
        foreach (var name in _directory.FileNames()) File.Delete(_directory.File(name));
        AssertOpenFails(_directory.Path, "no model files", "model.safetensors", SafeTensorsIndex.FileName);
    }

    [Fact]
    public void A_directory_with_both_layouts()
    {
        File.Copy(_directory.File(Shard1), _directory.File("model.safetensors"));
        AssertOpenFails(_directory.Path, "both model.safetensors and model.safetensors.index.json", "ambiguous");
    }

    [Fact]
    public void A_missing_directory()
    {
        var missing = Path.Combine(_directory.Path, "absent");
        AssertRejected(() => SafeTensorsCheckpoint.Open(missing), missing, "model directory not found");
    }
}
