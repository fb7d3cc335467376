namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// One response generated for an evaluation prompt: its decoded text, how many tokens were generated (the EOS not
/// counted), and whether generation stopped at EOS rather than at the length limit.
/// </summary>
public sealed record GeneratedResponse(string Text, int TokenCount, bool EndedWithEos);
