using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

/// <summary>A write that fails part-way leaves neither a partial file nor a damaged previous one.</summary>
[Trait("Backend", "cpu")]
public sealed class AtomicWriteTests
{
    private static readonly SafeTensorInfo[] Tensors =
        Enumerable.Range(0, 6).Select(i => new SafeTensorInfo($"t{i}", SafeTensorsDType.BF16, new Shape(64))).ToArray();

    private static float[] Values(float fill) => Enumerable.Repeat(fill, 64).ToArray();

    [Fact]
    public void A_failing_single_file_write_keeps_the_previous_file_and_leaves_no_temporary()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("model.safetensors");
        using (var writer = new SafeTensorsWriter(path, Tensors))
        {
            foreach (var info in Tensors) writer.Write(info.Name, Values(1));
            writer.Commit();
        }
        var previous = File.ReadAllBytes(path);

        void FailMidway()
        {
            using var writer = new SafeTensorsWriter(path, Tensors);
            writer.Write("t0", Values(2));
            writer.Write("t1", Values(2));
            throw new TimeoutException("the producer failed midway");
        }
        Assert.Throws<TimeoutException>(FailMidway);

        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], directory.FileNames());
    }

    [Fact]
    public void A_failing_first_write_leaves_no_file_at_all()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("model.safetensors");
        using (var writer = new SafeTensorsWriter(path, Tensors))
        {
            writer.Write("t0", Values(2));
            Assert.Throws<InvalidOperationException>(writer.Commit); // t1..t5 never written
        }
        Assert.Empty(directory.FileNames());
    }

    [Fact]
    public void A_failing_sharded_write_keeps_the_previous_sharded_checkpoint()
    {
        using var directory = new TemporaryDirectory();
        using (var writer = new ShardedSafeTensorsWriter(directory.Path, Tensors, maxShardBytes: 256))
        {
            foreach (var info in Tensors) writer.Write(info.Name, Values(1));
            writer.Commit();
        }
        var before = directory.FileNames().ToDictionary(name => name, name => File.ReadAllBytes(directory.File(name)));
        Assert.Equal(4, before.Count); // three shards and the index

        void FailMidway()
        {
            using var writer = new ShardedSafeTensorsWriter(directory.Path, Tensors, maxShardBytes: 256);
            foreach (var info in Tensors.Take(4)) writer.Write(info.Name, Values(2)); // shards 1 and 2 complete
            throw new TimeoutException("the producer failed midway");
        }
        Assert.Throws<TimeoutException>(FailMidway);

        Assert.Equal(before.Keys, directory.FileNames());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(directory.File(name)));
        using var checkpoint = SafeTensorsCheckpoint.Open(directory.Path);
        Assert.All(Tensors, info => Assert.Equal(Values(1), checkpoint.ReadFloats(info.Name)));
    }
}
