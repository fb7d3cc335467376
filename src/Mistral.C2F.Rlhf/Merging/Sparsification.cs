namespace Mistral.C2F.Rlhf.Merging;

/// <summary>How a task vector (a residue θ − θ_base) is thinned before it is merged.</summary>
public enum Sparsification
{
    /// <summary>Kept as it is.</summary>
    None,
    /// <summary>Magnitude trim: the largest <c>density</c> fraction by |τ| is kept, the rest zeroed (<see cref="MagnitudeTrim"/>).</summary>
    Trim,
    /// <summary>DARE: each element dropped with probability 1 − density, survivors divided by density (<see cref="DropAndRescale"/>).</summary>
    Dare,
}

public static class Sparsifications
{
    /// <summary>The spelling in a merge description: none, trim or dare.</summary>
    public static string Name(this Sparsification sparsification) => sparsification.ToString().ToLowerInvariant();
}
