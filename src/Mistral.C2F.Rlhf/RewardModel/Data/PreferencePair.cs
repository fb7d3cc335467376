namespace Mistral.C2F.Rlhf.RewardModel.Data;

/// <summary>
/// One comparison for reward modelling (TRL's format): a prompt, the preferred and the dispreferred response, and an
/// optional margin by which the preferred one should win.
/// </summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected, double Margin = 0);
