namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>The iterations of one PPO run, named for the legend when ablations are compared ("CM", "fixed limit").</summary>
public sealed record PpoRunLog(string Name, IReadOnlyList<PpoIterationRecord> Iterations);
