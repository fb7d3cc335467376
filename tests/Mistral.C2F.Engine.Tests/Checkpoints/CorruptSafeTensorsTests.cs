using System.Text;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using static Mistral.C2F.Engine.Tests.Checkpoints.SafeTensorsSurgery;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

/// <summary>
/// Every damaged file is rejected by an exception that names the file and the problem. Each test writes a
/// valid file (tensors "a" F32 [2, 3], "b" F32 [4], "c" BF16 [2, 2]) and then damages it.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class CorruptSafeTensorsTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _path;

    public CorruptSafeTensorsTests()
    {
        _path = _directory.File("damaged.safetensors");
        using var writer = new SafeTensorsWriter(_path,
        [
            new("a", SafeTensorsDType.F32, new Shape(2, 3)),
            new("b", SafeTensorsDType.F32, new Shape(4)),
            new("c", SafeTensorsDType.BF16, new Shape(2, 2)),
        ]);
        writer.Write("a", [1, 2, 3, 4, 5, 6]);
        writer.Write("b", [7, 8, 9, 10]);
        writer.Write("c", [11, 12, 13, 14]);
        writer.Commit();
    }

    public void Dispose() => _directory.Dispose();

    private void AssertOpenFails(params string[] problem) => AssertRejected(() => SafeTensorsFile.Open(_path).Dispose(), _path, problem);

    [Fact]
    public void The_undamaged_file_opens() => SafeTensorsFile.Open(_path).Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void A_file_shorter_than_8_bytes(int length)
    {
        File.WriteAllBytes(_path, new byte[length]);
        AssertOpenFails("shorter than the 8-byte header length");
    }

    [Fact]
    public void Truncated_data()
    {
        EditData(_path, data => data[..^3]);
        AssertOpenFails("tensor 'c'", "outside the data region", "truncated");
    }

    [Fact]
    public void A_header_length_past_the_end_of_the_file()
    {
        var (header, data) = Split(_path);
        Assemble(_path, Encoding.UTF8.GetBytes(header), data, declaredHeaderLength: (ulong)(header.Length + data.Length + 1));
        AssertOpenFails("runs past the end of the file");
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(100_000_001UL)]
    public void An_absurdly_large_header_length(ulong declared)
    {
        var (header, data) = Split(_path);
        Assemble(_path, Encoding.UTF8.GetBytes(header), data, declaredHeaderLength: declared);
        AssertOpenFails($"header length {declared} exceeds");
    }

    [Fact]
    public void Malformed_json()
    {
        EditHeaderText(_path, header => header.Replace("\"b\":", "\"b\"", StringComparison.Ordinal));
        AssertOpenFails("malformed JSON header");
    }

    [Fact]
    public void A_header_that_is_not_utf8()
    {
        var (header, data) = Split(_path);
        var bytes = Encoding.UTF8.GetBytes(header);
        bytes[Array.IndexOf(bytes, (byte)'b')] = 0xFF; // inside the name "b"
        Assemble(_path, bytes, data);
        AssertOpenFails("not valid UTF-8");
    }

    [Theory]
    [InlineData("[1, 2]", "JSON Array, not an object")]
    [InlineData("\"text\"", "JSON String, not an object")]
    [InlineData("{\"a\": 5}", "tensor 'a': entry is a JSON Number, not an object")]
    [InlineData("{\"__metadata__\": [\"pt\"]}", "'__metadata__' is a JSON Array")]
    [InlineData("{\"__metadata__\": {\"format\": 1}}", "'__metadata__' entry 'format' is a JSON Number, not a string")]
    public void A_header_of_the_wrong_structure(string header, string problem)
    {
        Assemble(_path, header, []);
        AssertOpenFails(problem);
    }

    [Theory]
    [InlineData("dtype")]
    [InlineData("shape")]
    [InlineData("data_offsets")]
    public void An_entry_missing_a_field(string field)
    {
        EditHeader(_path, header => header["b"]!.AsObject().Remove(field));
        AssertOpenFails("tensor 'b'", $"missing field '{field}'");
    }

    [Theory]
    [InlineData("dtype", "32", "field 'dtype' is a JSON Number, not a String")]
    [InlineData("shape", "\"4\"", "field 'shape' is a JSON String, not an Array")]
    [InlineData("shape", "[-4]", "shape entry -4 is not a non-negative 32-bit integer")]
    [InlineData("shape", "[4.0]", "shape entry 4.0 is not a non-negative 32-bit integer")]
    [InlineData("shape", "[\"4\"]", "is not a non-negative 32-bit integer")]
    [InlineData("shape", "[4294967296]", "is not a non-negative 32-bit integer")]
    [InlineData("data_offsets", "{\"begin\": 24}", "field 'data_offsets' is a JSON Object, not an Array")]
    [InlineData("data_offsets", "[24, 40, 56]", "is not a pair of non-negative integers")]
    [InlineData("data_offsets", "[-24, 40]", "is not a pair of non-negative integers")]
    [InlineData("data_offsets", "[\"24\", \"40\"]", "is not a pair of non-negative integers")]
    public void An_entry_field_of_the_wrong_type(string field, string json, string problem)
    {
        EditHeader(_path, header => header["b"]![field] = JsonNode.Parse(json));
        AssertOpenFails("tensor 'b'", problem);
    }

    [Fact]
    public void A_tensor_named_twice()
    {
        EditHeaderText(_path, header => header.Replace("\"b\":", "\"a\":", StringComparison.Ordinal));
        AssertOpenFails("names 'a' twice");
    }

    [Fact]
    public void Data_offsets_outside_the_data_region()
    {
        // The span has the right length for the shape, but lies beyond the end of the file.
        EditHeader(_path, header => SetOffsets(header, "b", 1000, 1016));
        AssertOpenFails("tensor 'b'", "data_offsets [1000, 1016] lie outside the data region");
    }

    [Fact]
    public void Overlapping_tensors()
    {
        EditHeader(_path, header => SetOffsets(header, "b", 8, 24)); // inside "a" [0, 24]
        AssertOpenFails("tensor 'b'", "overlap tensor 'a'");
    }

    [Fact]
    public void Data_offsets_that_end_before_they_begin()
    {
        EditHeader(_path, header => SetOffsets(header, "b", 40, 24));
        AssertOpenFails("tensor 'b'", "end before they begin");
    }

    [Fact]
    public void A_byte_length_that_disagrees_with_shape_and_dtype()
    {
        EditHeader(_path, header => header["b"]!["shape"] = new JsonArray(5));
        AssertOpenFails("tensor 'b'", "span 16 bytes, but shape [5] of F32 needs 20");
    }

    [Fact]
    public void A_dtype_that_disagrees_with_the_byte_length()
    {
        EditHeader(_path, header => header["b"]!["dtype"] = "F64");
        AssertOpenFails("tensor 'b'", "span 16 bytes, but shape [4] of F64 needs 32");
    }

    [Fact]
    public void A_shape_whose_element_count_overflows()
    {
        EditHeader(_path, header => header["b"]!["shape"] = new JsonArray(int.MaxValue, int.MaxValue, int.MaxValue));
        AssertOpenFails("tensor 'b'", "too many elements");
    }

    [Fact]
    public void Bytes_that_belong_to_no_tensor_between_tensors()
    {
        EditHeader(_path, header =>
        {
            var (begin, end) = Offsets(header, "c");
            SetOffsets(header, "c", begin + 8, end + 8);
        });
        EditData(_path, data => [.. data[..40], .. new byte[8], .. data[40..]]);
        AssertOpenFails("bytes 40..48", "before tensor 'c'", "belong to no tensor");
    }

    [Fact]
    public void Bytes_that_belong_to_no_tensor_at_the_end()
    {
        EditData(_path, data => [.. data, .. new byte[8]]);
        AssertOpenFails("bytes 48..56 at the end of the data region belong to no tensor");
    }

    [Fact]
    public void An_unknown_dtype()
    {
        EditHeader(_path, header => header["c"]!["dtype"] = "Q4_K");
        AssertOpenFails("tensor 'c'", "unsupported dtype 'Q4_K'");
    }

    [Fact]
    public void A_known_dtype_that_cannot_be_read_as_float()
    {
        EditHeader(_path, header => header["c"]!["dtype"] = "I16");
        using var file = SafeTensorsFile.Open(_path);
        AssertRejected(() => file.ReadFloats("c"), _path, "tensor 'c'", "unsupported dtype I16 for float32 reading");
    }

    [Fact]
    public void A_missing_tensor()
    {
        using var file = SafeTensorsFile.Open(_path);
        AssertRejected(() => file.ReadFloats("d"), _path, "no tensor named 'd'");
    }

    [Fact]
    public void A_missing_file()
    {
        File.Delete(_path);
        AssertOpenFails("file not found");
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void Non_finite_values_when_the_caller_asks_for_a_finite_check(float bad, string shown)
    {
        using (var writer = new SafeTensorsWriter(_path, [new("w", SafeTensorsDType.BF16, new Shape(3, 4))]))
        {
            var values = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
            values[6] = bad;
            writer.Write("w", values);
            writer.Commit();
        }
        using var file = SafeTensorsFile.Open(_path);
        Assert.Equal(bad, file.ReadFloats("w")[6]); // unchecked reads return what is stored
        AssertRejected(() => file.ReadFloats("w", checkFinite: true), _path, "tensor 'w'", $"non-finite value ({shown}) at element 6 [1, 2]");
    }

    [Fact]
    public void The_first_non_finite_value_is_located_in_a_large_tensor()
    {
        using (var writer = new SafeTensorsWriter(_path, [new("w", SafeTensorsDType.F16, new Shape(3, 40_000))]))
        {
            var values = new float[120_000];
            values[100_001] = float.NaN;
            values[110_000] = float.PositiveInfinity;
            writer.Write("w", values);
            writer.Commit();
        }
        using var file = SafeTensorsFile.Open(_path);
        AssertRejected(() => file.ReadFloats("w", checkFinite: true), _path, "tensor 'w'", "(NaN) at element 100001 [2, 20001] of shape [3, 40000]");
    }
}
