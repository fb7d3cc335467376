using System.CommandLine;
using System.Diagnostics;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f demo</c>: the engine end to end on the built-in tiny preset: create a checkpoint, load it back,
/// check the float32 CPU logits against the float64 reference, and generate from a prompt.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Where to write the demo checkpoint", DefaultValueFactory = _ => new DirectoryInfo("runs/demo") };
        var threads = CommonOptions.Threads();
        var command = new Command("demo", "Create the tiny model, verify CPU logits against the float64 reference, generate") { output, threads };
        command.SetAction(parse =>
        {
            var directory = Path.Combine(parse.GetRequiredValue(output).FullName, "tiny");
            var config = MistralPresets.Get("tiny");
            RandomCheckpoint.Ensure(directory, config, seed: 0);
            var tokenizer = MistralTokenizer.Load(directory);
            var prompt = "Sort the numbers 7, 3 and 5 from smallest to largest:";
            var ids = tokenizer.Encode(prompt, addBos: true);

            using var cpu = new CpuBackend(parse.GetValue(threads));
            using var model = MistralCheckpoint.LoadModel(directory, cpu);
            using var reference = new ReferenceBackend();
            using var oracle = MistralCheckpoint.LoadModel(directory, reference);
            var positions = Enumerable.Range(0, ids.Length).ToArray();
            var actual = cpu.ToFloats(model.Forward(cpu.FromInts(ids, 1, ids.Length), cpu.FromInts(positions, 1, ids.Length)));
            var expected = reference.ToDoubles(oracle.Forward(reference.FromInts(ids, 1, ids.Length), reference.FromInts(positions, 1, ids.Length)));
            double difference = 0, norm = 0;
            for (int i = 0; i < actual.Length; i++) (difference, norm) = (difference + Math.Pow(actual[i] - expected[i], 2), norm + expected[i] * expected[i]);

            var clock = Stopwatch.StartNew();
            var result = new Generator(model).Generate([ids], 48, new SamplingOptions(Temperature: 0.8f, TopP: 0.95f, Seed: 1))[0];
            double seconds = clock.Elapsed.TotalSeconds;

            var table = new Table().AddColumns("Step", "Result").Border(TableBorder.Rounded);
            table.AddRow("checkpoint", Markup.Escape($"{directory} (tiny preset, {config.NumHiddenLayers} layers, vocab {config.VocabSize})"));
            table.AddRow("prompt tokens", ids.Length.ToString());
            table.AddRow("CPU float32 vs float64 reference", $"relative L2 error of logits {Math.Sqrt(difference / norm):E2}");
            table.AddRow("generation (random weights)", Markup.Escape(tokenizer.Decode(result.Tokens)));
            table.AddRow("speed", $"{ids.Length + result.Tokens.Length} tokens in {seconds * 1000:F0} ms");
            AnsiConsole.Write(table);
        });
        return command;
    }
}
