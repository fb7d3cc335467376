using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

[Trait("Backend", "cpu")]
public sealed class ShardedCheckpointTests
{
    private static readonly SafeTensorInfo[] Tensors =
    [
        new("t0", SafeTensorsDType.F32, new Shape(10, 10)), // 400 bytes
        new("t1", SafeTensorsDType.F32, new Shape(50)),     // 200
        new("t2", SafeTensorsDType.BF16, new Shape(100)),   // 200
        new("t3", SafeTensorsDType.F16, new Shape(300)),    // 600: larger than a shard, gets one of its own
        new("t4", SafeTensorsDType.F32, new Shape(25)),     // 100
    ];

    // Small integers, distinct per tensor, that BF16 and F16 store exactly.
    private static float[] ValuesOf(SafeTensorInfo info) =>
        Enumerable.Range(0, (int)info.Shape.ElementCount).Select(i => (info.Name[1] - '0') * 16f + i % 16).ToArray();

    private static void Save(string directory, long maxShardBytes)
    {
        using var writer = new ShardedSafeTensorsWriter(directory, Tensors, maxShardBytes);
        foreach (var info in Tensors) writer.Write(info.Name, ValuesOf(info));
        writer.Commit();
    }

    [Fact]
    public void A_sharded_checkpoint_reads_back_every_tensor_across_shards()
    {
        using var directory = new TemporaryDirectory();
        Save(directory.Path, maxShardBytes: 500);

        Assert.Equal(["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors",
            "model-00004-of-00004.safetensors", "model.safetensors.index.json"], directory.FileNames());
        var index = SafeTensorsIndex.Read(directory.File(SafeTensorsIndex.FileName));
        Assert.Equal(1500, index.TotalSize);
        Assert.Equal(new Dictionary<string, string>
        {
            ["t0"] = "model-00001-of-00004.safetensors",
            ["t1"] = "model-00002-of-00004.safetensors",
            ["t2"] = "model-00002-of-00004.safetensors",
            ["t3"] = "model-00003-of-00004.safetensors",
            ["t4"] = "model-00004-of-00004.safetensors",
        }, index.WeightMap);

        using var checkpoint = SafeTensorsCheckpoint.Open(directory.Path);
        Assert.Equal(Tensors, checkpoint.Tensors);
        Assert.Equal(directory.File("model-00002-of-00004.safetensors"), checkpoint.FileOf("t2"));
        foreach (var info in Tensors.Reverse()) Assert.Equal(ValuesOf(info), checkpoint.ReadFloats(info.Name));
    }

    [Fact]
    public void Weights_that_fit_one_shard_are_written_as_model_safetensors_without_an_index()
    {
        using var directory = new TemporaryDirectory();
        Save(directory.Path, maxShardBytes: 1500);
        Assert.Equal(["model.safetensors"], directory.FileNames());
        using var checkpoint = SafeTensorsCheckpoint.Open(directory.Path);
        Assert.Equal(directory.File("model.safetensors"), checkpoint.SourcePath);
        foreach (var info in Tensors) Assert.Equal(ValuesOf(info), checkpoint.ReadFloats(info.Name));
    }

    [Fact]
    public void Saving_over_a_checkpoint_of_the_other_layout_leaves_only_the_new_one()
    {
        using var directory = new TemporaryDirectory();
        Save(directory.Path, maxShardBytes: 300);
        Assert.Equal(6, directory.FileNames().Length);
        Save(directory.Path, maxShardBytes: 1500);
        Assert.Equal(["model.safetensors"], directory.FileNames());
        Save(directory.Path, maxShardBytes: 900);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"],
            directory.FileNames());
        using var checkpoint = SafeTensorsCheckpoint.Open(directory.Path);
        foreach (var info in Tensors) Assert.Equal(ValuesOf(info), checkpoint.ReadFloats(info.Name));
    }

    [Fact]
    public void Raw_bytes_stream_from_a_sharded_checkpoint_into_a_new_one()
    {
        using var source = new TemporaryDirectory();
        using var target = new TemporaryDirectory();
        Save(source.Path, maxShardBytes: 500);
        using (var checkpoint = SafeTensorsCheckpoint.Open(source.Path))
        using (var writer = new ShardedSafeTensorsWriter(target.Path, checkpoint.Tensors, maxShardBytes: 700))
        {
            foreach (var info in checkpoint.Tensors)
            {
                var bytes = new byte[info.ByteLength];
                checkpoint.ReadRawBytes(info.Name, bytes);
                writer.WriteRaw(info.Name, bytes);
            }
            writer.Commit();
        }
        using var copy = SafeTensorsCheckpoint.Open(target.Path);
        foreach (var info in Tensors)
            Assert.Equal(MemoryMarshal.AsBytes(ValuesOf(info).AsSpan()).ToArray(), MemoryMarshal.AsBytes(copy.ReadFloats(info.Name).AsSpan()).ToArray());
    }
}
