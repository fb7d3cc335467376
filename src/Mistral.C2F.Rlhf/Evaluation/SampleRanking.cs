namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>A reward model's ranking of a model's sampled answers: ROC AUC of score against correct (null when all or none are right).</summary>
/// <param name="Answers">Sampled answers, every prompt answered the same number of times.</param>
/// <param name="Accuracy">Share of them that were right.</param>
/// <param name="WithinPromptAuc">
/// The share of (right, wrong) answers to the same prompt ranked right (<see cref="RocAuc.WithinGroups"/>); null in results
/// written before it was measured.
/// </param>
/// <param name="WorkedRightAuc">
/// ROC AUC of score against right with every written step right (<see cref="WrittenEquation.AllRight"/>): the target's AUC
/// counts an answer right by luck as right, a reward model that checks the working does not. Null in results written before.
/// </param>
/// <param name="LuckyShare">Share of the right answers that write a wrong step (right by luck); null as above, and when none is right.</param>
public sealed record SampleRanking(double? Auc, double Accuracy, int Answers, double? WithinPromptAuc = null, double? WorkedRightAuc = null,
    double? LuckyShare = null);
