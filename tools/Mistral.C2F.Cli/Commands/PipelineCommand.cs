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
        var noAblations = new Option<bool>("--no-ablations") { Description = "Skip the PPO ablations (limit fixed at L₀ and at L_max, answer-checker reward)" };
        var refine = new Option<string[]>("--refine") { Description = "KRM refinements to compare, first = the Fine Actor: none, trim, dare (default trim none dare)" };
        var lambdas = new Option<float[]>("--lambda") { Description = "λ sweep; the Fine Actor takes the best on the validation prompts (default 0.5 1 1.5 2 3)" };
        var density = new Option<double?>("--density") { Description = $"Density kept by trim/dare (default {defaults.Density})" };
        var seed = new Option<int?>("--seed") { Description = "One seed for every stage (default 0)" };
        var seeds = new Option<string>("--seeds")
        {
            Description = "Several seeds: a count N (seeds 0..N-1) or a list such as 3,7,11; each runs in OUT/seed-K and OUT/report.md has them all, " +
                "with means, 95 % intervals and the claims",
        };
        var threads = CommonOptions.Threads();
        var lanes = new Option<int?>("--lanes")
        {
            Description = "Independent stages (and seeds) run side by side on this many backends, which share the --threads (a stage alone " +
                "has them all; default: one a thread on the cpu backend, 1 on the others)",
        }.AtLeast(1);
        var backendName = CommonOptions.Backend();
        var command = new Command("pipeline", "Run the Coarse-to-Fine pipeline end to end and write its report")
        {
            preset, output, iterations, noAblations, refine, lambdas, density, seed, seeds, threads, lanes, backendName,
        };
        command.SetAction((parse, cancellation) =>
        {
            var options = defaults with
            {
                Preset = parse.GetRequiredValue(preset),
                PpoIterations = parse.GetValue(iterations) ?? defaults.PpoIterations,
                Ablations = !parse.GetValue(noAblations),
                Refinements = parse.GetValue(refine) is { Length: > 0 } r ? r.Select(ParseRefinement).ToList() : defaults.Refinements,
                Lambdas = parse.GetValue(lambdas) is { Length: > 0 } l ? l : defaults.Lambdas,
                Density = parse.GetValue(density) ?? defaults.Density,
            };
            var seedList = (parse.GetValue(seed), parse.GetValue(seeds)) switch
            {
                (int one, null) => [one],
                (null, string list) => ParseSeeds(list),
                (null, null) => [defaults.Seed],
                _ => throw new ArgumentException("give --seed or --seeds, not both"),
            };
            var directory = parse.GetRequiredValue(output).FullName;
            using var backendLanes = CreateLanes(parse.GetRequiredValue(backendName), parse.GetValue(threads), parse.GetValue(lanes));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string markdown = "";
            AnsiConsole.Status().Start("starting", status =>
            {
                var board = new StageBoard(clock, backendLanes.Count, AnsiConsole.Profile.Capabilities.Interactive);
                var progress = new SynchronousProgress<PipelineProgress>(p =>
                {
                    lock (board)
                    {
                        // A result stays on screen as its own line: as a status it lasted only until the next stage's status.
                        if (p.IsResult) AnsiConsole.WriteLine(board.Line(p));
                        else if (board.Update(p) is { } shown) status.Status(Markup.Escape(shown));
                    }
                });
                markdown = SeedSweep.Run(options, seedList, directory, backendLanes, progress, cancellation).Markdown;
            });
            Console.WriteLine(markdown);
            AnsiConsole.MarkupLine($"[green]done[/] in {StageBoard.Clock(clock.Elapsed)}; report: {Markup.Escape(Path.Combine(directory, "report.md"))}");
            return Task.CompletedTask;
        });
        return command;
    }

    /// <summary>
    /// The lanes the stages run on: on the cpu backend one a thread unless --lanes says otherwise, sharing the threads (a
    /// stage alone has them all); elsewhere one backend (the GPU runs one stage at a time).
    /// </summary>
    private static BackendLanes CreateLanes(string backend, int threads, int? lanes)
    {
        if (backend == "cpu")
            return lanes is null || lanes <= threads ? BackendLanes.SharingCores(lanes ?? threads, threads)
                : throw new ArgumentException($"--lanes {lanes} share the --threads: give at least as many threads, got {threads}");
        return lanes is null or 1 ? BackendLanes.Create(1, () => CommonOptions.CreateBackend(backend, threads))
            : throw new ArgumentException($"--lanes {lanes}: side-by-side stages run on the cpu backend only, not on {backend}");
    }

    /// <summary>"5" → seeds 0..4; "3,7,11" → those seeds.</summary>
    private static int[] ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !parts.All(p => int.TryParse(p, out _)))
            throw new ArgumentException($"--seeds '{text}': give a count or a comma-separated list of integers");
        var values = parts.Select(int.Parse).ToArray();
        if (values.Length == 1)
            return values[0] is >= 1 and <= 100 ? Enumerable.Range(0, values[0]).ToArray() : throw new ArgumentException($"--seeds {values[0]}: a count from 1 to 100");
        return values.Distinct().Count() == values.Length ? values : throw new ArgumentException($"--seeds '{text}': a seed is given twice");
    }

    private static Sparsification ParseRefinement(string name) => name switch
    {
        "none" => Sparsification.None,
        "trim" => Sparsification.Trim,
        "dare" => Sparsification.Dare,
        _ => throw new ArgumentException($"unknown refinement '{name}': use none, trim or dare"),
    };
}
