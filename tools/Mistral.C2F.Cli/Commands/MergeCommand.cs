using System.CommandLine;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Rlhf.Merging;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f merge</c>: the Fine Actor by Knowledge Residue Merger from <c>--base</c>, <c>--coarse</c> and <c>--instruct</c>,
/// or any merge described in a YAML/JSON file (<c>--config</c>), streamed tensor by tensor into <c>--out</c>.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var description = new Option<FileInfo>("--config") { Description = "A merge description in YAML or JSON (krm, task_arithmetic, ties, dare_linear, dare_ties)" };
        var baseModel = new Option<string>("--base") { Description = "KRM: the model the Coarse Actor was trained from (θ_base)" };
        var coarse = new Option<string>("--coarse") { Description = "KRM: the Coarse Actor (θ_coarse)" };
        var instruct = new Option<string>("--instruct") { Description = "KRM: the instruction model the residue is merged into (θ_instruct)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write the merged model into", Required = true };
        var lambda = new Option<float?>("--lambda") { Description = "KRM: λ of every group without its own (default 1)" };
        var lambdaEmbeddings = new Option<float?>("--lambda-embeddings") { Description = "KRM: λ of embed_tokens and lm_head" };
        var lambdaAttention = new Option<float?>("--lambda-attention") { Description = "KRM: λ of the q, k, v, o projections" };
        var lambdaMlp = new Option<float?>("--lambda-mlp") { Description = "KRM: λ of the gate, up, down projections" };
        var lambdaNorms = new Option<float?>("--lambda-norms") { Description = "KRM: λ of the RMSNorm weights" };
        var refine = new Option<string>("--refine") { Description = "KRM: refinement of the residue: none, trim (magnitude) or dare (drop and rescale)" }
            .AcceptOnlyFromAmong([.. Enum.GetValues<Sparsification>().Select(s => s.Name())]);
        var density = new Option<double?>("--density") { Description = "KRM: fraction of the residue kept by trim or dare, in (0, 1]" };
        var seed = new Option<ulong?>("--seed") { Description = "KRM: seed of DARE's draws (default 0)" };
        var dtype = new Option<string>("--dtype") { Description = "Output storage: f32, bf16 or f16 (default: the description's, else the instruct/base model's torch_dtype)" }
            .AcceptOnlyFromAmong("f32", "bf16", "f16");
        var shardSize = new Option<long?>("--shard-size") { Description = $"Largest output shard in bytes (default: the description's, else {MistralCheckpoint.DefaultMaxShardBytes})" };
        var force = new Option<bool>("--force") { Description = "Replace --out if it is not empty" };
        var command = new Command("merge", "Merge models: the Fine Actor by Knowledge Residue Merger, or task arithmetic, TIES and DARE from a description")
        {
            description, baseModel, coarse, instruct, output, lambda, lambdaEmbeddings, lambdaAttention, lambdaMlp, lambdaNorms, refine, density, seed,
            dtype, shardSize, force,
        };
        Option[] krmOptions = [baseModel, coarse, instruct, lambda, lambdaEmbeddings, lambdaAttention, lambdaMlp, lambdaNorms, refine, density, seed];
        command.SetAction((parse, cancellation) =>
        {
            MergeSpec spec;
            if (parse.GetValue(description) is { } file)
            {
                var given = krmOptions.Where(option => parse.GetResult(option) is not null).Select(option => option.Name).ToArray();
                if (given.Length > 0) throw new ArgumentException($"{string.Join(", ", given)}: give the merge either in --config or as options, not both");
                spec = MergeDescription.Load(file.FullName);
            }
            else
            {
                spec = MergeSpec.Krm(Required(parse, baseModel), Required(parse, coarse), Required(parse, instruct)) with
                {
                    Lambda = new GroupLambdas(parse.GetValue(lambda) ?? 1f, parse.GetValue(lambdaEmbeddings), parse.GetValue(lambdaAttention),
                        parse.GetValue(lambdaMlp), parse.GetValue(lambdaNorms)),
                    Refine = Enum.GetValues<Sparsification>().Single(s => s.Name() == (parse.GetValue(refine) ?? "none")),
                    Density = parse.GetValue(density),
                    Seed = parse.GetValue(seed) ?? 0,
                };
            }
            spec = spec with
            {
                Storage = parse.GetValue(dtype) is { } name ? MistralCheckpoint.ParseStorage(name) : spec.Storage,
                MaxShardBytes = parse.GetValue(shardSize) ?? spec.MaxShardBytes,
            };
            Run(spec, parse.GetRequiredValue(output).FullName, parse.GetValue(force), cancellation);
            return Task.CompletedTask;
        });
        return command;
    }

    private static string Required(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) ?? throw new ArgumentException($"{option.Name} is required (or describe the merge with --config)");

    private static void Run(MergeSpec spec, string outputDirectory, bool replace, CancellationToken cancellation)
    {
        MergeResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask($"{spec.Method.Name()}: opening inputs", maxValue: 1);
                result = ModelMerger.Run(spec, outputDirectory, new SynchronousProgress<MergeProgress>(report =>
                {
                    task.MaxValue = report.TotalElements;
                    task.Value = report.ElementsDone;
                    task.Description = Markup.Escape($"{spec.Method.Name()}: tensor {report.Tensor}/{report.TensorCount} {report.Name}");
                }), replace, cancellation);
            });
        var merged = result!;
        AnsiConsole.MarkupLine($"[green]merged[/] {merged.Method.Name()} into {Markup.Escape(merged.Directory)}: {merged.Tensors} tensors, " +
            $"{merged.Parameters / 1e6:F1}M parameters as {merged.Storage}, {merged.WeightFiles.Count} weight file(s), " +
            $"{merged.BufferBytes / 1048576.0:F1} MiB of buffers, {merged.Elapsed.TotalSeconds:F1} s");
    }
}
