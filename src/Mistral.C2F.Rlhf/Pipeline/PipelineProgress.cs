namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>What the pipeline is doing: the stage, and a line about its latest step.</summary>
/// <param name="IsResult">A measurement the user should keep seeing (the reward model's figures, L₀, the chosen λ), not a passing status.</param>
public sealed record PipelineProgress(string Stage, string Message, int Step = 0, int TotalSteps = 0, bool IsResult = false);
