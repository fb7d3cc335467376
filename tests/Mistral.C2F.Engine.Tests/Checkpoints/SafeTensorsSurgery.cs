using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

/// <summary>Takes valid safetensors files apart and puts them back together damaged.</summary>
public static class SafeTensorsSurgery
{
    public static (string Header, byte[] Data) Split(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        return (Encoding.UTF8.GetString(bytes, 8, headerLength), bytes[(8 + headerLength)..]);
    }

    public static void Assemble(string path, byte[] header, byte[] data, ulong? declaredHeaderLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        File.WriteAllBytes(path, bytes);
    }

    public static void Assemble(string path, string header, byte[] data) => Assemble(path, Encoding.UTF8.GetBytes(header), data);

    /// <summary>Rewrites the header text, keeping the data region.</summary>
    public static void EditHeaderText(string path, Func<string, string> edit)
    {
        var (header, data) = Split(path);
        Assemble(path, edit(header), data);
    }

    /// <summary>Rewrites the header as a JSON object, keeping the data region.</summary>
    public static void EditHeader(string path, Action<JsonObject> edit)
    {
        var (header, data) = Split(path);
        var json = JsonNode.Parse(header)!.AsObject();
        edit(json);
        Assemble(path, json.ToJsonString(), data);
    }

    public static void EditData(string path, Func<byte[], byte[]> edit)
    {
        var (header, data) = Split(path);
        Assemble(path, header, edit(data));
    }

    public static void SetOffsets(JsonObject header, string tensor, long begin, long end) =>
        header[tensor]!["data_offsets"] = new JsonArray(begin, end);

    public static (long Begin, long End) Offsets(JsonObject header, string tensor)
    {
        var offsets = header[tensor]!["data_offsets"]!.AsArray();
        return (offsets[0]!.GetValue<long>(), offsets[1]!.GetValue<long>());
    }

    public static CheckpointException AssertRejected(Action action, string path, params string[] problemFragments)
    {
        var error = Assert.Throws<CheckpointException>(action);
        Assert.Contains(Path.GetFileName(path), error.Message);
        foreach (var fragment in problemFragments) Assert.Contains(fragment, error.Message);
        return error;
    }
}
