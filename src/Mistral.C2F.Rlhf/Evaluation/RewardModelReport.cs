namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The reward model, measured: its accuracy on held-out and on validation preference pairs, and how well its scores rank
/// the base model's own sampled answers by correctness (the ROC AUC against the answer checker) — the first thing PPO shows it.
/// </summary>
/// <param name="HeldOutSamples">The ranking on answers to the held-out prompts: the figure the report gives.</param>
/// <param name="ValidationSamples">The ranking on answers to the validation prompts: where the reward model's settings are chosen.</param>
/// <param name="UnitsSlipProbe">Accuracy on held-out pairs of a kind it never trained on (a result off by 1 to 3): its blind spot, measured.</param>
public sealed record RewardModelReport(RewardModelAccuracy HeldOut, RewardModelAccuracy Validation, SampleRanking HeldOutSamples,
    SampleRanking ValidationSamples, double UnitsSlipProbe);

