namespace Mistral.C2F.Engine.Backends;

/// <summary>The clip range, the coefficient and the token count of a PPO loss (<see cref="Backend.PpoPolicyLoss"/>, <see cref="Backend.PpoValueLoss"/>).</summary>
/// <param name="Clip">ε of the policy ratio (TRL's cliprange), or how far a value may move from its rollout-time value (cliprange_value).</param>
/// <param name="Coefficient">The entropy bonus's c (OpenRLHF's entropy_loss_coef), or the value loss's vf_coef.</param>
/// <param name="Tokens">N, the whole mini-batch's response tokens: the gradient is that of the summed loss over N.</param>
public readonly record struct PpoLossSettings(double Clip, double Coefficient, double Tokens)
{
    public void Validate(string op)
    {
        if (!(Clip > 0) || !double.IsFinite(Clip)) throw new ArgumentException($"{op}: the clip range must be positive, got {Clip}");
        if (!(Coefficient >= 0) || !double.IsFinite(Coefficient)) throw new ArgumentException($"{op}: the coefficient must be ≥ 0, got {Coefficient}");
        if (!(Tokens >= 1) || !double.IsFinite(Tokens)) throw new ArgumentException($"{op}: the token count must be ≥ 1, got {Tokens}");
    }
}

/// <summary>
/// PPO's two losses (TRL's) on the host, in float64, over the rows whose target is not −1 (the response tokens): the
/// definitions the ops are checked against and what a backend without kernels computes. The sums they return are what
/// a PPO update logs.
/// </summary>
public static class PpoLosses
{
    /// <summary>Sums of <see cref="Policy"/>, in order: Σ policy loss, clipped tokens, Σ (log ρ)², Σ ρ, Σ entropy.</summary>
    public const int PolicyStatistics = 5;
    public const int PolicySum = 0, PolicyClipped = 1, SquaredLogRatioSum = 2, RatioSum = 3, EntropySum = 4;

    /// <summary>Sums of <see cref="Value"/>, in order: Σ max(squared errors) (without vf_coef and ½), clipped tokens.</summary>
    public const int ValueStatistics = 2;
    public const int SquaredErrorSum = 0, ValueClipped = 1;

    /// <summary>
    /// The clipped surrogate max(−A·ρ, −A·clip(ρ, 1 ± ε)), ρ = exp(log π − log π_old), plus the entropy bonus −c·H, per
    /// response row. Returns the summed loss (surrogate and bonus), ∂(loss / N)/∂log π (−A·ρ/N where the unclipped term
    /// is the larger, else 0) and ∂(loss / N)/∂H (−c/N), 0 on other rows, and the statistics.
    /// </summary>
    public static (double LossSum, double[] LogProbGradient, double[] EntropyGradient, double[] Statistics) Policy(ReadOnlySpan<double> logProbs,
        ReadOnlySpan<double> entropy, ReadOnlySpan<double> oldLogProbs, ReadOnlySpan<double> advantages, ReadOnlySpan<int> targets, PpoLossSettings settings)
    {
        var (logProbGradient, entropyGradient, statistics) = (new double[targets.Length], new double[targets.Length], new double[PolicyStatistics]);
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] < 0) continue;
            double logRatio = logProbs[i] - oldLogProbs[i], ratio = Math.Exp(logRatio);
            double unclipped = -advantages[i] * ratio, clipped = -advantages[i] * Math.Clamp(ratio, 1 - settings.Clip, 1 + settings.Clip);
            if (clipped > unclipped)
            {
                statistics[PolicySum] += clipped;
                statistics[PolicyClipped]++;
            }
            else
            {
                statistics[PolicySum] += unclipped;
                logProbGradient[i] = unclipped / settings.Tokens; // ∂(−A·ρ)/∂log π = −A·ρ
            }
            statistics[SquaredLogRatioSum] += logRatio * logRatio;
            statistics[RatioSum] += ratio;
            statistics[EntropySum] += entropy[i];
            entropyGradient[i] = -settings.Coefficient / settings.Tokens;
        }
        return (statistics[PolicySum] - settings.Coefficient * statistics[EntropySum], logProbGradient, entropyGradient, statistics);
    }

    /// <summary>
    /// The clipped value loss vf_coef·½·max((V − R)², (clamp(V, V_old ± c) − R)²) per response row. Returns the summed
    /// loss, ∂(loss / N)/∂V (vf_coef·(V − R)/N where the unclipped error is the larger, else 0; 0 on other rows), and
    /// the statistics.
    /// </summary>
    public static (double LossSum, double[] ValueGradient, double[] Statistics) Value(ReadOnlySpan<double> values, ReadOnlySpan<double> oldValues,
        ReadOnlySpan<double> returns, ReadOnlySpan<int> targets, PpoLossSettings settings)
    {
        var (gradient, statistics) = (new double[targets.Length], new double[ValueStatistics]);
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] < 0) continue;
            double error = values[i] - returns[i];
            // V_old + clip(V − V_old, ±c) written as a clamp of V, which returns V itself inside the range: a rounded
            // V_old + (V − V_old) differs from V when |V| ≪ |V_old| and could pass for a binding clip.
            double clippedError = Math.Clamp(values[i], oldValues[i] - settings.Clip, oldValues[i] + settings.Clip) - returns[i];
            if (clippedError * clippedError > error * error)
            {
                statistics[SquaredErrorSum] += clippedError * clippedError;
                statistics[ValueClipped]++;
            }
            else
            {
                statistics[SquaredErrorSum] += error * error;
                gradient[i] = settings.Coefficient * error / settings.Tokens; // ∂(vf_coef·½·e²/N)/∂V
            }
        }
        return (settings.Coefficient * 0.5 * statistics[SquaredErrorSum], gradient, statistics);
    }
}
