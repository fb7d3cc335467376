using System.CommandLine;
using Mistral.C2F.Rlhf.Merging;
using Mistral.C2F.Rlhf.Pipeline;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f pipeline --preset tiny</c>: the whole Coarse-to-Fine method offline on the embedded chain-arithmetic task, ending
/// with a report (Markdown table and PPO plots) that it also prints. Run it again on the same --out to finish an
/// interrupted pipeline.
/// </summary>
internal static class PipelineCommand
{
    public static Command Create()
    {
        var defaults = new PipelineOptions();
        var preset = new Option<string>("--preset") { Description = "Model and stage sizes", DefaultValueFactory = _ => "tiny" }.AcceptOnlyFromAmong("tiny");
        var output = new Option<DirectoryInfo>("--out") { Description = "Pipeline directory (every stage's run, the report)", DefaultValueFactory = _ => new DirectoryInfo("runs/pipeline") };
        var iterations = new Option<int?>("--ppo-iterations") { Description = $"PPO iterations of the Coarse Actor (default {defaults.PpoIterations})" }.AtLeast(1);
        var noFixedLimit = new Option<bool>("--no-fixed-limit-ablation") { Description = "Skip PPO with a fixed length limit (the CM ablation)" };
        var refine = new Option<string[]>("--refine") { Description = "KRM refinements to compare, first = the Fine Actor: none, trim, dare (default trim none dare)" };
        var lambdas = new Option<float[]>("--lambda") { Description = "λ sweep, first = the Fine Actor's (default 1 0.5 1.5)" };
        var density = new Option<double?>("--density") { Description = $"Density kept by trim/dare (default {defaults.Density})" };
        var seed = new Option<int?>("--seed") { Description = "Seed of every stage (default 0)" };
        var threads = CommonOptions.Threads();
        var backendName = CommonOptions.Backend();
        var command = new Command("pipeline", "Run the Coarse-to-Fine pipeline end to end and write its report")
        {
            preset, output, iterations, noFixedLimit, refine, lambdas, density, seed, threads, backendName,
        };
        command.SetAction((parse, cancellation) =>
        {
            var options = defaults with
            {
                Preset = parse.GetRequiredValue(preset),
                PpoIterations = parse.GetValue(iterations) ?? defaults.PpoIterations,
                FixedLimitAblation = !parse.GetValue(noFixedLimit),
                Refinements = parse.GetValue(refine) is { Length: > 0 } r ? r.Select(ParseRefinement).ToList() : defaults.Refinements,
                Lambdas = parse.GetValue(lambdas) is { Length: > 0 } l ? l : defaults.Lambdas,
                Density = parse.GetValue(density) ?? defaults.Density,
                Seed = parse.GetValue(seed) ?? defaults.Seed,
            };
            var directory = parse.GetRequiredValue(output).FullName;
            using var backend = CommonOptions.CreateBackend(parse.GetRequiredValue(backendName), parse.GetValue(threads));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string markdown = "";
            AnsiConsole.Status().Start("starting", status =>
            {
                // A redirected console prints every status change as a line: update at most once a second there.
                var interval = TimeSpan.FromSeconds(AnsiConsole.Profile.Capabilities.Interactive ? 0.1 : 1);
                var (lastStage, lastUpdate) = ("", TimeSpan.Zero);
                var progress = new SynchronousProgress<PipelineProgress>(p =>
                {
                    if (p.Stage == lastStage && clock.Elapsed - lastUpdate < interval) return;
                    (lastStage, lastUpdate) = (p.Stage, clock.Elapsed);
                    status.Status(Markup.Escape($"[{clock.Elapsed:mm\\:ss}] {p.Stage}{(p.TotalSteps > 0 ? $" {p.Step}/{p.TotalSteps}" : "")}: {p.Message}"));
                });
                markdown = new CoarseToFinePipeline(options, directory, backend, progress).Run(cancellation).Markdown;
            });
            Console.WriteLine(markdown);
            AnsiConsole.MarkupLine($"[green]done[/] in {clock.Elapsed:mm\\:ss}; report: {Markup.Escape(Path.Combine(directory, "report.md"))}");
            return Task.CompletedTask;
        });
        return command;
    }

    private static Sparsification ParseRefinement(string name) => name switch
    {
        "none" => Sparsification.None,
        "trim" => Sparsification.Trim,
        "dare" => Sparsification.Dare,
        _ => throw new ArgumentException($"unknown refinement '{name}': use none, trim or dare"),
    };
}
