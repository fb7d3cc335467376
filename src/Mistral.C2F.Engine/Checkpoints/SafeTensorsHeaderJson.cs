using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// The JSON part of a safetensors header: <c>{"__metadata__": {string: string}, name: {"dtype", "shape",
/// "data_offsets": [begin, end]}, …}</c>. Parsing checks every entry on its own; the layout of the
/// entries against each other and the file is <see cref="SafeTensorsHeader"/>'s job.
/// </summary>
internal static class SafeTensorsHeaderJson
{
    public const string MetadataKey = "__metadata__";

    public static (List<SafeTensorEntry> Entries, Dictionary<string, string> Metadata) Parse(ReadOnlyMemory<byte> json, string path)
    {
        // JsonDocument checks UTF-8 lazily (when a name is read), so check it before trusting any text.
        if (!Utf8.IsValid(json.Span)) throw new CheckpointException(path, "the header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"malformed JSON header: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, $"the header is a JSON {root.ValueKind}, not an object");
            var entries = new List<SafeTensorEntry>();
            var metadata = new Dictionary<string, string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                // JSON allows repeated keys; a header that names a tensor twice is ambiguous.
                if (!seen.Add(property.Name))
                    throw new CheckpointException(path, $"the header names '{property.Name}' twice");
                if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, path);
                else entries.Add(ReadEntry(property.Name, property.Value, path));
            }
            return (entries, metadata);
        }
    }

    public static byte[] Write(IEnumerable<SafeTensorEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            foreach (var (key, value) in metadata) json.WriteString(key, value);
            json.WriteEndObject();
            foreach (var entry in entries)
            {
                json.WriteStartObject(entry.Info.Name);
                json.WriteString("dtype", entry.Info.DType.FormatName());
                json.WriteStartArray("shape");
                foreach (var dim in entry.Info.Shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(entry.Begin);
                json.WriteNumberValue(entry.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Spaces pad the header so the data region starts 8-byte aligned, as the format's writers do.
        int padding = (int)((8 - (buffer.Length % 8)) % 8);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        return buffer.ToArray();
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, $"'{MetadataKey}' is a JSON {value.ValueKind}, not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(path, $"'{MetadataKey}' entry '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new CheckpointException(path, $"'{MetadataKey}' names '{item.Name}' twice");
        }
    }

    private static SafeTensorEntry ReadEntry(string name, JsonElement value, string path)
    {
        CheckpointException Bad(string problem) => new(path, $"tensor '{name}': {problem}");

        if (value.ValueKind != JsonValueKind.Object) throw Bad($"entry is a JSON {value.ValueKind}, not an object");
        var dtypeField = Field(value, "dtype", JsonValueKind.String, Bad);
        var dtypeName = dtypeField.GetString()!;
        if (!SafeTensorsDTypes.TryParse(dtypeName, out var dtype)) throw Bad($"unsupported dtype '{dtypeName}'");

        var shapeField = Field(value, "shape", JsonValueKind.Array, Bad);
        var dims = new int[shapeField.GetArrayLength()];
        long elements = 1;
        int axis = 0;
        foreach (var dim in shapeField.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out dims[axis]) || dims[axis] < 0)
                throw Bad($"shape entry {dim.GetRawText()} is not a non-negative 32-bit integer");
            // Overflow is a corrupt header, not an arithmetic exception: bound the product before multiplying.
            if (dims[axis] != 0 && elements > long.MaxValue / 8 / dims[axis])
                throw Bad($"shape [{string.Join(", ", shapeField.EnumerateArray())}] has too many elements");
            elements *= dims[axis++];
        }

        var offsetsField = Field(value, "data_offsets", JsonValueKind.Array, Bad);
        var offsets = offsetsField.EnumerateArray().ToArray();
        if (offsets.Length != 2 || !TryGetOffset(offsets[0], out long begin) || !TryGetOffset(offsets[1], out long end))
            throw Bad($"data_offsets {offsetsField.GetRawText()} is not a pair of non-negative integers");
        if (end < begin) throw Bad($"data_offsets [{begin}, {end}] end before they begin");

        var info = new SafeTensorInfo(name, dtype, new Shape(dims));
        if (end - begin != info.ByteLength)
            throw Bad($"data_offsets [{begin}, {end}] span {end - begin} bytes, but shape {info.Shape} of {dtypeName} needs {info.ByteLength}");
        return new SafeTensorEntry(info, begin, end);
    }

    private static bool TryGetOffset(JsonElement element, out long offset)
    {
        offset = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out offset) && offset >= 0;
    }

    private static JsonElement Field(JsonElement entry, string field, JsonValueKind kind, Func<string, CheckpointException> bad)
    {
        if (!entry.TryGetProperty(field, out var value)) throw bad($"missing field '{field}'");
        if (value.ValueKind != kind) throw bad($"field '{field}' is a JSON {value.ValueKind}, not {(kind == JsonValueKind.Array ? "an" : "a")} {kind}");
        return value;
    }
}
