using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// The pipeline over several seeds: every stage of every seed (seed K in <c>seed-K/</c>, each with its own report), then one
/// report of them all. The seeds run side by side, their stages sharing the lanes, so a lane one seed leaves idle (while
/// its reward model trains, say) runs another seed's stage; the earlier steps of every seed take the lanes first
/// (<see cref="StagePriority"/>). Run again on the same directory, it finishes what an
/// interruption left and redoes nothing else. With one seed the pipeline runs in the directory itself.
/// </summary>
public static class SeedSweep
{
    public static (IReadOnlyList<PipelineReportInput> Seeds, string Markdown) Run(PipelineOptions options, IReadOnlyList<int> seeds, string outputDirectory,
        BackendLanes lanes, IProgress<PipelineProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count) throw new ArgumentException($"give distinct seeds, got [{string.Join(", ", seeds)}]");
        using var sweep = new ConcurrentStages(cancellation);
        var runs = seeds.Select((seed, index) => sweep.Start(stop =>
        {
            var directory = seeds.Count == 1 ? outputDirectory : Path.Combine(outputDirectory, $"seed-{seed}");
            var seedProgress = progress is null ? null : new Relabel(progress, seeds.Count == 1 ? "" : $"seed {seed}: ");
            var input = new CoarseToFinePipeline(options with { Seed = seed }, directory, lanes, seedProgress, order: index).Run(stop);
            if (seeds.Count > 1) PipelineReport.Write(directory, [input]);
            return input;
        })).ToList();
        var inputs = runs.Select(sweep.Result).ToList();
        progress?.Report(new PipelineProgress("report", "writing report.md and the PPO plots"));
        return (inputs, PipelineReport.Write(outputDirectory, inputs));
    }

    private sealed class Relabel(IProgress<PipelineProgress> inner, string prefix) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => inner.Report(value with { Stage = prefix + value.Stage });
    }
}
