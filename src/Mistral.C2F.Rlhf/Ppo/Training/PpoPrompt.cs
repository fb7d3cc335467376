namespace Mistral.C2F.Rlhf.Ppo.Training;

/// <summary>A rollout prompt (BOS and the prompt's tokens) and the final answer of its reference response, where it has a checkable one.</summary>
public sealed record PpoPrompt(int[] Ids, int? Answer);
