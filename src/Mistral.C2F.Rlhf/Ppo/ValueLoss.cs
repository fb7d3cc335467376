namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>PPO's clipped value loss of one mini-batch, with the gradient that seeds the critic's backward.</summary>
/// <param name="Loss">vf_coef·0.5·mean over real tokens of max((V − R)², (V_old + clip(V − V_old, ±c) − R)²): the critic's share of the objective.</param>
/// <param name="UnweightedLoss">The same without vf_coef (TRL's loss/value_avg).</param>
/// <param name="ValueGradient">∂Loss/∂V per slot: vf_coef·(V − R)/N where the unclipped term is the max, 0 where the clipped one is (it is then constant); 0 on padding.</param>
/// <param name="ClipFraction">Share of real tokens whose clipped term is strictly the larger (val/clipfrac_avg).</param>
public sealed record ValueLoss(double Loss, double UnweightedLoss, double[] ValueGradient, double ClipFraction)
{
    /// <param name="values">V, the critic's current predictions.</param>
    /// <param name="oldValues">V_old, recorded at rollout time.</param>
    /// <param name="returns">R, the GAE returns.</param>
    /// <param name="cliprangeValue">c (TRL's cliprange_value).</param>
    /// <param name="vfCoef">TRL's vf_coef.</param>
    public static ValueLoss Compute(ResponseLayout layout, ReadOnlySpan<double> values, ReadOnlySpan<double> oldValues, ReadOnlySpan<double> returns,
        double cliprangeValue, double vfCoef)
    {
        layout.RequireSlots(values.Length, "values");
        layout.RequireSlots(oldValues.Length, "old values");
        layout.RequireSlots(returns.Length, "returns");
        if (!(cliprangeValue > 0)) throw new ArgumentOutOfRangeException(nameof(cliprangeValue), cliprangeValue, "cliprange_value must be > 0");
        if (!(vfCoef >= 0)) throw new ArgumentOutOfRangeException(nameof(vfCoef), vfCoef, "vf_coef must be ≥ 0");
        double n = layout.TokenCount;
        var gradient = new double[layout.Slots];
        double sum = 0, clipped = 0;
        for (int row = 0; row < layout.Rows; row++)
        {
            for (int i = layout.Start(row); i <= layout.Last(row); i++)
            {
                double error = values[i] - returns[i];
                // V_old + clip(V − V_old, ±c) written as a clamp of V, which returns V itself inside the range: a rounded
                // V_old + (V − V_old) differs from V when |V| ≪ |V_old| and could pass for a binding clip.
                double clippedError = Math.Clamp(values[i], oldValues[i] - cliprangeValue, oldValues[i] + cliprangeValue) - returns[i];
                if (clippedError * clippedError > error * error)
                {
                    sum += clippedError * clippedError;
                    clipped++;
                }
                else
                {
                    sum += error * error;
                    gradient[i] = vfCoef * error / n; // ∂(vf_coef·0.5·e²/N)/∂V
                }
            }
        }
        double unweighted = 0.5 * sum / n;
        return new ValueLoss(vfCoef * unweighted, unweighted, gradient, clipped / n);
    }
}
