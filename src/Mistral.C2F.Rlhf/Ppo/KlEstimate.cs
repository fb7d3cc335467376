namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>Per-token KL estimates of the policy against the frozen reference (see <see cref="KlEstimator"/>).</summary>
public static class KlEstimate
{
    public static double Token(KlEstimator estimator, double logProb, double referenceLogProb) => estimator switch
    {
        KlEstimator.K1 => logProb - referenceLogProb,
        KlEstimator.K3 => ExpMinusOneMinusIdentity(referenceLogProb - logProb),
        _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "unknown KL estimator"),
    };

    /// <summary>The estimate at every real token of the batch; 0 on padding.</summary>
    public static double[] Tokens(KlEstimator estimator, ResponseLayout layout, ReadOnlySpan<double> logProbs, ReadOnlySpan<double> referenceLogProbs)
    {
        layout.RequireSlots(logProbs.Length, "log-probs");
        layout.RequireSlots(referenceLogProbs.Length, "reference log-probs");
        var kl = new double[layout.Slots];
        for (int row = 0; row < layout.Rows; row++)
        {
            for (int i = layout.Start(row); i <= layout.Last(row); i++) kl[i] = Token(estimator, logProbs[i], referenceLogProbs[i]);
        }
        return kl;
    }

    /// <summary>
    /// e^x − 1 − x. Evaluated directly it loses every digit when π ≈ π_ref (x ≈ 0, the usual case) and can come out
    /// slightly negative; the Taylor series Σ xⁿ/n! (n ≥ 2) is exact to rounding there and keeps k3 ≥ 0.
    /// </summary>
    private static double ExpMinusOneMinusIdentity(double x)
    {
        // |x| ≤ 1/4: the first omitted term, x¹³/13!, is below 1e-16 of the sum x²/2 + …
        if (Math.Abs(x) > 0.25) return Math.Exp(x) - 1 - x;
        double sum = 0;
        for (int n = 12; n >= 2; n--) sum = (sum + 1) * x / n; // Horner: sum = x/2·(1 + x/3·(1 + … (1 + x/12)))
        return x * sum;
    }
}
