using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Rlhf.Evaluation;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// The pipeline over several seeds: every stage of every seed (seed K in <c>seed-K/</c>, each with its own report), then one
/// report of them all. Run again on the same directory, it finishes what an interruption left and redoes nothing else.
/// With one seed the pipeline runs in the directory itself.
/// </summary>
public static class SeedSweep
{
    public static (IReadOnlyList<PipelineReportInput> Seeds, string Markdown) Run(PipelineOptions options, IReadOnlyList<int> seeds, string outputDirectory,
        Backend backend, IProgress<PipelineProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count) throw new ArgumentException($"give distinct seeds, got [{string.Join(", ", seeds)}]");
        var inputs = new List<PipelineReportInput>();
        foreach (var seed in seeds)
        {
            var directory = seeds.Count == 1 ? outputDirectory : Path.Combine(outputDirectory, $"seed-{seed}");
            var seedProgress = progress is null ? null : new Relabel(progress, seeds.Count == 1 ? "" : $"seed {seed}: ");
            inputs.Add(new CoarseToFinePipeline(options with { Seed = seed }, directory, backend, seedProgress).Run(cancellation));
            if (seeds.Count > 1) PipelineReport.Write(directory, [inputs[^1]]);
        }
        progress?.Report(new PipelineProgress("report", "writing report.md and the PPO plots"));
        return (inputs, PipelineReport.Write(outputDirectory, inputs));
    }

    private sealed class Relabel(IProgress<PipelineProgress> inner, string prefix) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => inner.Report(value with { Stage = prefix + value.Stage });
    }
}
