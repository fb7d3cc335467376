namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// L₀, Continuous Maximization's first limit, from the base model's sampled answers: a quantile of the lengths of those
/// that show their work (write an equation). A bare number fits any limit; counted in, a base model that answers one time
/// in four with a bare number got L₀ = 3 tokens (validation seed 7), a limit under which no worked answer fits, so that the
/// ablation with the limit fixed at L₀ meant "can never write its working" rather than Continuous Maximization switched off.
/// </summary>
public static class StartingLimit
{
    /// <param name="lengths">Generated tokens per answer.</param>
    /// <param name="showsWork">Per answer, whether it writes an equation; when none does, every answer counts.</param>
    public static int Choose(IReadOnlyList<int> lengths, IReadOnlyList<bool> showsWork, double quantile)
    {
        if (lengths.Count == 0 || showsWork.Count != lengths.Count)
            throw new ArgumentException($"need a length and a shows-work flag per answer, got {lengths.Count} and {showsWork.Count}");
        ArgumentOutOfRangeException.ThrowIfNegative(quantile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1.0);
        var worked = lengths.Where((_, i) => showsWork[i]).Order().ToArray();
        var counted = worked.Length > 0 ? worked : lengths.Order().ToArray();
        return Math.Max(1, counted[(int)Math.Floor(quantile * (counted.Length - 1))]);
    }
}
