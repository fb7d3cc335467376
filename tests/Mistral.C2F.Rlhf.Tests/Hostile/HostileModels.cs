using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Rlhf.Tests.Hostile;

/// <summary>Valid tiny-preset model directories and the ways the hostile tests damage copies of them.</summary>
public sealed class HostileModels : IDisposable
{
    public HostileModels()
    {
        Root = Path.Combine(Path.GetTempPath(), $"c2f-hostile-{Guid.NewGuid():N}");
        Single = Path.Combine(Root, "single");
        RandomCheckpoint.Write(Single, MistralPresets.Get("tiny"), seed: 3);
        Sharded = Path.Combine(Root, "sharded");
        RandomCheckpoint.Write(Sharded, MistralPresets.Get("tiny"), seed: 3, maxShardBytes: 1_000_000);
        Tokens = Path.Combine(Root, "tokens.json");
        File.WriteAllText(Tokens, """{"tokens": [[1, 17, 300, 2, 9, 44], [1, 5, 5, 5, 100, 767]]}""");
    }

    public string Root { get; }
    public string Single { get; }
    public string Sharded { get; }
    /// <summary>Token ids for c2f dump: two rows of six.</summary>
    public string Tokens { get; }

    /// <summary>A fresh copy of a valid model directory to damage.</summary>
    public string Copy(string source, string name)
    {
        var target = Path.Combine(Root, $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    public static void EditConfig(string directory, Action<JsonObject> edit)
    {
        var path = Path.Combine(directory, MistralCheckpoint.ConfigFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Overwrites element <paramref name="index"/> of a float32 tensor in a safetensors file.</summary>
    public static void Poke(string file, string tensor, int index, float value)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var headerBytes = new byte[BinaryPrimitives.ReadInt64LittleEndian(prefix)];
        stream.ReadExactly(headerBytes);
        var entry = JsonNode.Parse(Encoding.UTF8.GetString(headerBytes))![tensor]!;
        if (entry["dtype"]!.GetValue<string>() != "F32") throw new InvalidOperationException($"{tensor} is not F32");
        stream.Position = 8 + headerBytes.Length + entry["data_offsets"]![0]!.GetValue<long>() + 4L * index;
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        stream.Write(bytes);
    }

    /// <summary>Replaces a file by a named pipe (FIFO) with no writer: reading it blocks forever.</summary>
    public static void ReplaceWithFifo(string path)
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("named pipes are made with mkfifo, on Linux");
        File.Delete(path);
        using var mkfifo = Process.Start("mkfifo", path);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>Moves a file out of its directory and leaves a symbolic link to it in its place.</summary>
    public void ReplaceWithOutsideLink(string path)
    {
        var outside = Path.Combine(Root, $"outside-{Guid.NewGuid():N}");
        File.Move(path, outside);
        File.CreateSymbolicLink(path, outside);
    }
}
