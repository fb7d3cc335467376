namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>One reward-model training example in TRL's preference format: a prompt, the preferred and the other response.</summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected);
