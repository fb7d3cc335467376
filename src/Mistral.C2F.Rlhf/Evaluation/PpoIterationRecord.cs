namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>What one PPO iteration logged, for the report's table and plots.</summary>
/// <param name="Iteration">The iteration number as the trainer counts it (the plots' x axis).</param>
/// <param name="ScoreMean">Mean reward-model score of the iteration's rollouts (objective/scores).</param>
/// <param name="Kl">Mean KL to the reference model per response, in nats (objective/kl).</param>
/// <param name="LengthLimit">The rollout length limit in tokens during the iteration (Continuous Maximization's L_k).</param>
/// <param name="MeanResponseLength">Mean generated tokens per rollout.</param>
/// <param name="TruncationRate">Share of rollouts cut at the length limit, in 0..1.</param>
public sealed record PpoIterationRecord(
    int Iteration,
    double ScoreMean,
    double Kl,
    int LengthLimit,
    double MeanResponseLength,
    double TruncationRate);
