namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>One row of the report's stage table: a model ("base", "instruct", "coarse actor", "fine actor", or an ablation) and its metrics.</summary>
public sealed record StageRow(string Name, StageMetrics Metrics);
