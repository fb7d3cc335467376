using System.CommandLine;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary><c>c2f init</c>: a randomly initialised checkpoint in Hugging Face layout, written one tensor at a time.</summary>
internal static class InitCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Architecture preset: {string.Join(", ", MistralPresets.Names)}" }
            .AcceptOnlyFromAmong([.. MistralPresets.Names]);
        var configFile = new Option<FileInfo>("--config") { Description = "A config.json to use instead of a preset" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to create", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "Storage dtype: f32, bf16 or f16 (default: the config's torch_dtype)" }
            .AcceptOnlyFromAmong("f32", "bf16", "f16");
        var shardSize = new Option<long>("--shard-size") { Description = "Largest shard in bytes", DefaultValueFactory = _ => MistralCheckpoint.DefaultMaxShardBytes };
        var force = new Option<bool>("--force") { Description = "Write into a directory that is not empty" };
        var command = new Command("init", "Create a randomly initialised checkpoint (config.json, safetensors, tokenizer)")
        {
            preset, configFile, output, seed, dtype, shardSize, force,
        };
        command.SetAction(parse =>
        {
            var config = (parse.GetValue(preset), parse.GetValue(configFile)) switch
            {
                (string name, null) => MistralPresets.Get(name),
                (null, FileInfo file) => MistralConfig.Load(file.FullName),
                _ => throw new ArgumentException("give exactly one of --preset or --config"),
            };
            var directory = parse.GetRequiredValue(output).FullName;
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any() && !parse.GetValue(force))
                throw new IOException($"{directory} is not empty; pass --force to write into it");
            var storage = MistralCheckpoint.ParseStorage(parse.GetValue(dtype) ?? config.TorchDtype);
            Write(directory, config, storage, parse.GetValue(seed), parse.GetValue(shardSize), inPlace: parse.GetValue(force));
        });
        return command;
    }

    /// <param name="inPlace">Write among the files already in the directory (--force); otherwise the directory appears all at once, so a kill leaves nothing.</param>
    internal static void Write(string directory, MistralConfig config, DType storage, int seed, long shardBytes, bool inPlace)
    {
        var parameters = MistralParameterNames.For(config);
        long totalElements = parameters.Sum(p => p.Shape.ElementCount);
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask($"{totalElements / 1e6:F1}M parameters as {storage}", maxValue: totalElements);
                void WriteInto(string target) => RandomCheckpoint.Write(target, config, seed, storage, shardBytes, elements => task.Increment(elements));
                if (inPlace) WriteInto(directory);
                else StagedDirectory.Write(directory, replace: true, WriteInto);
            });
        AnsiConsole.MarkupLine($"[green]wrote[/] {Markup.Escape(directory)}: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, " +
            $"vocab {config.VocabSize}, {totalElements / 1e6:F1}M parameters ({storage}), seed {seed}");
    }
}
