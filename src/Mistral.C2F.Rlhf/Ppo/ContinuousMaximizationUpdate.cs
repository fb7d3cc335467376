namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>What one Continuous Maximization update saw and did, for the log (cm/…) and the next iteration.</summary>
/// <param name="MeanScore">R̄, the iteration's mean score.</param>
/// <param name="MeanFirstTokenValue">V̄, the critic's mean value at the first response token.</param>
/// <param name="ScoreStd">s_R, the running standard deviation of scores including this iteration's.</param>
/// <param name="TruncationRate">τ, the share of rollouts cut at the limit (cm/truncation_rate).</param>
/// <param name="Gate">g (cm/gate).</param>
/// <param name="LimitBefore">The limit this iteration's rollouts were generated under (cm/length_limit).</param>
/// <param name="LimitAfter">The next iteration's limit (cm/next_length_limit).</param>
/// <param name="Next">The state to continue (and checkpoint) with.</param>
public sealed record ContinuousMaximizationUpdate(double MeanScore, double MeanFirstTokenValue, double ScoreStd, double TruncationRate, double Gate,
    int LimitBefore, int LimitAfter, ContinuousMaximizationState Next);
