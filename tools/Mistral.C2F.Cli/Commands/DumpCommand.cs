using System.CommandLine;
using System.Text.Json;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f dump</c>: logits for given token ids, as safetensors, so the engine can be compared with any other
/// implementation of the same checkpoint.
/// </summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDirectory();
        var tokens = new Option<FileInfo>("--tokens") { Description = "JSON file {\"tokens\": [[ids…], …]}, rows of equal length", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "safetensors file to write (logits: float32 [batch, seq, vocab])", Required = true };
        var (backend, threads) = (CommonOptions.Backend(), CommonOptions.Threads());
        var command = new Command("dump", "Write the logits of a model for token ids to a safetensors file")
        {
            model, tokens, output, backend, threads,
        };
        command.SetAction(parse =>
        {
            var rows = ReadTokens(parse.GetRequiredValue(tokens).FullName);
            using var compute = CommonOptions.CreateBackend(parse.GetRequiredValue(backend), parse.GetValue(threads));
            using var mistral = MistralCheckpoint.LoadModel(CommonOptions.ExistingDirectory(parse.GetRequiredValue(model)), compute);
            int batch = rows.Length, length = rows[0].Length, vocab = mistral.Config.VocabSize;
            for (int b = 0; b < batch; b++) mistral.ValidateTokens(rows[b], $"{parse.GetRequiredValue(tokens).Name} row {b}");

            var flat = rows.SelectMany(r => r).ToArray();
            var positions = rows.SelectMany(r => Enumerable.Range(0, r.Length)).ToArray();
            var logits = compute.ToFloats(mistral.Forward(compute.FromInts(flat, batch, length), compute.FromInts(positions, batch, length)));

            var path = parse.GetRequiredValue(output).FullName;
            using (var writer = new SafeTensorsWriter(path, [new SafeTensorInfo("logits", SafeTensorsDType.F32, new Shape(batch, length, vocab))]))
            {
                writer.Write("logits", logits);
                writer.Commit();
            }
            AnsiConsole.MarkupLine($"[green]wrote[/] {Markup.Escape(path)}: logits [[{batch}, {length}, {vocab}]] from backend {compute.Name}");
        });
        return command;
    }

    /// <summary>Reads {"tokens": [[…], …]}: a non-empty list of non-empty rows of equal length.</summary>
    internal static int[][] ReadTokens(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        int[][]? rows;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("tokens", out var array))
                throw new InvalidDataException($"{path}: expected an object with a \"tokens\" array of rows");
            rows = array.Deserialize<int[][]>();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a list of integer rows: {e.Message}", e);
        }
        if (rows is null || rows.Length == 0 || rows.Any(r => r is null || r.Length == 0))
            throw new InvalidDataException($"{path}: \"tokens\" must hold at least one non-empty row");
        if (rows.Any(r => r.Length != rows[0].Length))
            throw new InvalidDataException($"{path}: rows have different lengths ({string.Join(", ", rows.Select(r => r.Length).Distinct())}); pad them to one length");
        return rows;
    }
}
