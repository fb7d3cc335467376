using System.Globalization;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>Numbers for the report: four significant digits in plain notation, so columns read at a glance.</summary>
public static class SignificantFigures
{
    public const int DefaultDigits = 4;
    public const string Missing = "–";

    /// <summary>
    /// 0.012345 → "0.01235", 12.345 → "12.35", 45678.9 → "45679" (an integer part is never cut), null → "–".
    /// Values too small for 15 decimals fall back to exponent notation.
    /// </summary>
    public static string Format(double? value, int digits = DefaultDigits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(digits, 1);
        if (value is not { } v) return Missing;
        if (double.IsNaN(v)) return "NaN";
        if (double.IsInfinity(v)) return v > 0 ? "∞" : "−∞";
        if (v == 0) return "0";
        int decimals = Decimals(v, digits);
        // Rounding may carry into a new leading digit (9.9996 → 10.00): count the digits again on the rounded value.
        if (decimals is >= 0 and <= 15) decimals = Decimals(Math.Round(v, decimals, MidpointRounding.AwayFromZero), digits);
        if (decimals > 15) return v.ToString($"E{digits - 1}", CultureInfo.InvariantCulture);
        return Math.Round(v, decimals, MidpointRounding.AwayFromZero).ToString($"F{decimals}", CultureInfo.InvariantCulture);
    }

    /// <summary>A share in 0..1 as a percentage with the same digits: 0.4567 → "45.67".</summary>
    public static string Percent(double? share, int digits = DefaultDigits) => Format(share * 100, digits);

    private static int Decimals(double v, int digits) =>
        Math.Max(0, digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(v))));
}
