namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>TRL's <c>masked_whiten</c> over the real tokens of a batch.</summary>
public static class MaskedWhitening
{
    /// <summary>Added to the variance before the square root, as TRL, so a constant batch does not divide by zero.</summary>
    public const double VarianceEpsilon = 1e-8;

    /// <summary>
    /// Rescales the real tokens to unit (Bessel-corrected) variance over the whole batch: v ← (v − mean)/√(var + 1e-8),
    /// then adds the mean back when <paramref name="shiftMean"/> is false (TRL's shift_mean: advantages are centred,
    /// rewards keep their mean). Padding slots are left as they are.
    /// </summary>
    public static void WhitenInPlace(ResponseLayout layout, Span<double> values, bool shiftMean = true)
    {
        layout.RequireSlots(values.Length, "values to whiten");
        if (layout.TokenCount < 2) throw new ArgumentException("whitening needs at least two real tokens: the variance of one is undefined");
        double mean = 0;
        for (int row = 0; row < layout.Rows; row++)
            for (int i = layout.Start(row); i <= layout.Last(row); i++) mean += values[i];
        mean /= layout.TokenCount;
        double squares = 0;
        for (int row = 0; row < layout.Rows; row++)
            for (int i = layout.Start(row); i <= layout.Last(row); i++) squares += (values[i] - mean) * (values[i] - mean);
        double scale = 1 / Math.Sqrt(squares / (layout.TokenCount - 1) + VarianceEpsilon);
        double shift = shiftMean ? 0 : mean;
        for (int row = 0; row < layout.Rows; row++)
            for (int i = layout.Start(row); i <= layout.Last(row); i++) values[i] = (values[i] - mean) * scale + shift;
    }
}
