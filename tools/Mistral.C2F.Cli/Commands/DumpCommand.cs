using System.CommandLine;
using System.Text.Json;
using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Training;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f dump</c>: logits, loss and every parameter gradient for given token ids, as safetensors, so the engine
/// can be compared with any other implementation of the same checkpoint.
/// </summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDirectory();
        var tokens = new Option<FileInfo>("--tokens") { Description = "JSON file {\"tokens\": [[ids…], …]}, rows of equal length", Required = true };
        var output = new Option<FileInfo>("--out")
        {
            Description = "safetensors file to write: logits float32 [batch, seq, vocab], loss (mean next-token cross-entropy), grad/<parameter>",
            Required = true,
        };
        var logitsOnly = new Option<bool>("--logits-only") { Description = "Skip the loss and the gradients" };
        var (backend, threads, allowNonFinite) = (CommonOptions.Backend(), CommonOptions.Threads(), CommonOptions.AllowNonFinite());
        var command = new Command("dump", "Write the logits of a model for token ids to a safetensors file")
        {
            model, tokens, output, logitsOnly, backend, threads, allowNonFinite,
        };
        command.SetAction(parse =>
        {
            var rows = ReadTokens(parse.GetRequiredValue(tokens).FullName);
            using var compute = CommonOptions.CreateBackend(parse.GetRequiredValue(backend), parse.GetValue(threads));
            using var mistral = MistralCheckpoint.LoadModel(CommonOptions.ExistingDirectory(parse.GetRequiredValue(model)), compute,
                parse.GetValue(allowNonFinite));
            int batch = rows.Length, length = rows[0].Length, vocab = mistral.Config.VocabSize;
            for (int b = 0; b < batch; b++) mistral.ValidateTokens(rows[b], $"{parse.GetRequiredValue(tokens).Name} row {b}");

            var flat = rows.SelectMany(r => r).ToArray();
            var positions = rows.SelectMany(r => Enumerable.Range(0, r.Length)).ToArray();
            var logits = compute.ToFloats(mistral.Forward(compute.FromInts(flat, batch, length), compute.FromInts(positions, batch, length)));

            var tensors = new List<(SafeTensorInfo Info, float[] Values)> { (Info("logits", batch, length, vocab), logits) };
            if (!parse.GetValue(logitsOnly))
            {
                if (length < 2) throw new InvalidDataException($"{parse.GetRequiredValue(tokens).Name}: the loss needs rows of at least 2 tokens (or pass --logits-only)");
                var (loss, gradients) = LossAndGradients(mistral, rows);
                tensors.Add((Info("loss"), [(float)loss]));
                tensors.AddRange(gradients.Select(g => (Info($"grad/{g.Key}", g.Value.Shape.ToArray()), compute.ToFloats(g.Value))));
            }

            var path = parse.GetRequiredValue(output).FullName;
            using (var writer = new SafeTensorsWriter(path, tensors.Select(t => t.Info)))
            {
                foreach (var (info, values) in tensors) writer.Write(info.Name, values);
                writer.Commit();
            }
            AnsiConsole.MarkupLine($"[green]wrote[/] {Markup.Escape(path)}: logits [[{batch}, {length}, {vocab}]]" +
                (tensors.Count > 1 ? $", loss {tensors[1].Values[0]:F6} and {tensors.Count - 2} gradients" : "") + $" from backend {compute.Name}");
        });
        return command;
    }

    private static SafeTensorInfo Info(string name, params int[] shape) => new(name, SafeTensorsDType.F32, new Shape(shape));

    /// <summary>Mean next-token cross-entropy over every position but the last of each row, and its parameter gradients.</summary>
    private static (double Loss, IReadOnlyDictionary<string, Tensor> Gradients) LossAndGradients(MistralModel model, int[][] rows)
    {
        var gradients = model.AttachGradients();
        var batch = CausalLmLoss.Batch.NextTokens(rows);
        using var tape = new Tape(model.Backend);
        double loss = CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens) / batch.LossTokens;
        return (loss, gradients);
    }

    /// <summary>Reads {"tokens": [[…], …]}: a non-empty list of non-empty rows of equal length.</summary>
    internal static int[][] ReadTokens(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        ModelFiles.RequireRegularFile(path);
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
