namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>Everything the pipeline report shows: the stage rows in table order and the PPO runs (the first is the main one).</summary>
public sealed record PipelineReportInput(IReadOnlyList<StageRow> Stages, IReadOnlyList<PpoRunLog> PpoRuns);
