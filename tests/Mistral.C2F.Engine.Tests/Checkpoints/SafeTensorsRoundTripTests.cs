using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

[Trait("Backend", "cpu")]
public sealed class SafeTensorsRoundTripTests
{
    private readonly Random _random = new(20261125);

    /// <summary>Random values that the storage type holds exactly, so a round trip must return identical bits.</summary>
    private float[] Representable(SafeTensorsDType dtype, int count)
    {
        var values = Numerics.RandomFloats(_random, count, 3f);
        for (int i = 0; i < count; i++)
        {
            values[i] = dtype switch
            {
                SafeTensorsDType.BF16 => BFloat16.ToSingle(BFloat16.FromSingle(values[i])),
                SafeTensorsDType.F16 => (float)(Half)values[i],
                _ => values[i],
            };
        }
        return values;
    }

    [Theory]
    [InlineData(SafeTensorsDType.F32)]
    [InlineData(SafeTensorsDType.BF16)]
    [InlineData(SafeTensorsDType.F16)]
    public void Written_values_read_back_with_identical_bits(SafeTensorsDType dtype)
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("t.safetensors");
        var tensors = new[]
        {
            new SafeTensorInfo("matrix", dtype, new Shape(7, 13)),
            new SafeTensorInfo("vector", dtype, new Shape(5)),
            new SafeTensorInfo("big", dtype, new Shape(3, 100_003)), // longer than a vector loop and odd
        };
        var values = tensors.ToDictionary(t => t.Name, t => Representable(dtype, (int)t.Shape.ElementCount));
        values["vector"][0] = float.PositiveInfinity;
        values["vector"][1] = -0f;
        values["vector"][2] = float.NegativeInfinity;
        using (var writer = new SafeTensorsWriter(path, tensors))
        {
            foreach (var t in tensors.Reverse()) writer.Write(t.Name, values[t.Name]); // any order
            writer.Commit();
        }

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            Assert.Equal(t, file.Header.Info(t.Name));
            var read = file.ReadFloats(t.Name);
            Assert.Equal(MemoryMarshal.AsBytes(values[t.Name].AsSpan()).ToArray(), MemoryMarshal.AsBytes(read.AsSpan()).ToArray());
        }
    }

    [Fact]
    public void Float32_values_are_rounded_to_nearest_even_when_stored_as_bf16_and_f16()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("t.safetensors");
        var values = Numerics.RandomFloats(_random, 1000, 5f);
        using (var writer = new SafeTensorsWriter(path, [new("b", SafeTensorsDType.BF16, new Shape(1000)), new("h", SafeTensorsDType.F16, new Shape(1000))]))
        {
            writer.Write("b", values);
            writer.Write("h", values);
            writer.Commit();
        }
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(values.Select(v => BFloat16.ToSingle(BFloat16.FromSingle(v))), file.ReadFloats("b"));
        Assert.Equal(values.Select(v => (float)(Half)v), file.ReadFloats("h"));
    }

    [Fact]
    public void The_file_follows_the_format_conventions()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("t.safetensors");
        // Mixed element sizes in an awkward order: the writer packs larger elements first so each tensor is aligned.
        var tensors = new SafeTensorInfo[]
        {
            new("odd_bf16", SafeTensorsDType.BF16, new Shape(3)),
            new("f32", SafeTensorsDType.F32, new Shape(5)),
            new("empty", SafeTensorsDType.F32, new Shape(0, 4)),
            new("scalar", SafeTensorsDType.F16, new Shape()),
        };
        using (var writer = new SafeTensorsWriter(path, tensors))
        {
            writer.Write("odd_bf16", [1, 2, 3]);
            writer.Write("f32", [1, 2, 3, 4, 5]);
            writer.Write("empty", []);
            writer.Write("scalar", [0.5f]);
            writer.Commit();
        }

        var (header, _) = SafeTensorsSurgery.Split(path);
        Assert.Equal(0, (8 + header.Length) % 8);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"}", header);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Header.Metadata["format"]);
        Assert.Equal(0, file.Header.DataOffset % 8);
        Assert.Equal(["f32", "empty", "odd_bf16", "scalar"], file.Tensors.Select(t => t.Name));
        Assert.Equal([0.5f], file.ReadFloats("scalar"));
        Assert.Empty(file.ReadFloats("empty"));
        Assert.Equal([1f, 2, 3], file.ReadFloats("odd_bf16"));
    }

    [Fact]
    public void Raw_bytes_copy_a_tensor_of_any_dtype_unchanged()
    {
        using var directory = new TemporaryDirectory();
        var source = directory.File("a.safetensors");
        var copy = directory.File("b.safetensors");
        var ids = new long[] { 1, -2, long.MaxValue };
        var tensors = new SafeTensorInfo[] { new("ids", SafeTensorsDType.I64, new Shape(3)), new("w", SafeTensorsDType.BF16, new Shape(4)) };
        using (var writer = new SafeTensorsWriter(source, tensors))
        {
            writer.WriteRaw("ids", MemoryMarshal.AsBytes(ids.AsSpan()));
            writer.Write("w", [1, -2, 0.25f, 8]);
            writer.Commit();
        }

        using (var file = SafeTensorsFile.Open(source))
        using (var writer = new SafeTensorsWriter(copy, file.Tensors))
        {
            foreach (var t in file.Tensors)
            {
                var bytes = new byte[t.ByteLength];
                file.ReadRawBytes(t.Name, bytes);
                writer.WriteRaw(t.Name, bytes);
            }
            writer.Commit();
        }
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(copy));
    }

    [Fact]
    public void F64_tensors_are_narrowed_to_float32_on_read()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("t.safetensors");
        var values = new[] { 0.1, -1e300, 1.5, 3e-50 };
        using (var writer = new SafeTensorsWriter(path, [new("d", SafeTensorsDType.F64, new Shape(4))]))
        {
            writer.WriteRaw("d", MemoryMarshal.AsBytes(values.AsSpan()));
            writer.Commit();
        }
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(values.Select(v => (float)v), file.ReadFloats("d"));
    }

    [Fact]
    public void A_writer_refuses_misuse_before_it_reaches_the_disk()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("t.safetensors");
        Assert.Throws<ArgumentException>(() => new SafeTensorsWriter(path, [new("a", SafeTensorsDType.F32, new Shape(1)), new("a", SafeTensorsDType.F32, new Shape(2))]));
        using var writer = new SafeTensorsWriter(path, [new("a", SafeTensorsDType.F32, new Shape(2)), new("i", SafeTensorsDType.I32, new Shape(2))]);
        Assert.Throws<ArgumentException>(() => writer.Write("a", [1f]));
        Assert.Throws<ArgumentException>(() => writer.Write("nope", [1f, 2f]));
        Assert.Throws<ArgumentException>(() => writer.Write("i", [1f, 2f]));
        writer.Write("a", [1f, 2f]);
        Assert.Throws<InvalidOperationException>(() => writer.Write("a", [1f, 2f]));
        var error = Assert.Throws<InvalidOperationException>(writer.Commit);
        Assert.Contains("'i'", error.Message);
        Assert.False(File.Exists(path));
    }
}
