namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>What the pipeline is doing: the stage, and a line about its latest step.</summary>
public sealed record PipelineProgress(string Stage, string Message, int Step = 0, int TotalSteps = 0);
