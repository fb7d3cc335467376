namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>What one PPO iteration logged, for the report's tables and plots.</summary>
/// <param name="Iteration">The iteration number as the trainer counts it (the plots' x axis).</param>
/// <param name="ScoreMean">Mean reward-model score of the iteration's rollouts, raw (rm/scores), whatever the reward.</param>
/// <param name="Kl">Mean KL to the reference model per response, in nats (objective/kl).</param>
/// <param name="LengthLimit">The rollout length limit in tokens during the iteration (Continuous Maximization's L_k).</param>
/// <param name="MeanResponseLength">Mean generated tokens per rollout.</param>
/// <param name="TruncationRate">Share of rollouts cut at the length limit, in 0..1.</param>
/// <param name="RewardModelAuc">ROC AUC of the reward model's score against the answer checker on the rollouts (rm/auc).</param>
/// <param name="Accuracy">Share of rollouts with the right answer (objective/accuracy).</param>
/// <param name="EvalAccuracy">Greedy accuracy on the validation prompts after the iteration (eval/accuracy).</param>
public sealed record PpoIterationRecord(
    int Iteration,
    double ScoreMean,
    double Kl,
    int LengthLimit,
    double MeanResponseLength,
    double TruncationRate,
    double? RewardModelAuc = null,
    double? Accuracy = null,
    double? EvalAccuracy = null);
