namespace Mistral.C2F.Rlhf.Merging;

/// <summary>The merges the engine runs; all of them are one pipeline (<see cref="TaskVectorMerge"/>) with different settings.</summary>
public enum MergeMethod
{
    /// <summary>Knowledge Residue Merger: θ_instruct + λ_g·T(θ_coarse − θ_base), T chosen by <c>refine</c>.</summary>
    Krm,
    /// <summary>θ_base + λ·Σ w_i·τ_i (Ilharco et al., 2023).</summary>
    TaskArithmetic,
    /// <summary>Trim, elect sign, disjoint mean (Yadav et al., 2023).</summary>
    Ties,
    /// <summary>DARE, then a weighted sum.</summary>
    DareLinear,
    /// <summary>DARE, then TIES's sign election.</summary>
    DareTies,
}

/// <summary>What each method does at each stage, with mergekit's names and defaults.</summary>
public static class MergeMethods
{
    private static readonly (MergeMethod Method, string Name, Sparsification Sparsification, bool SignConsensus, bool Normalize)[] Table =
    [
        (MergeMethod.Krm, "krm", Sparsification.None, false, false),
        (MergeMethod.TaskArithmetic, "task_arithmetic", Sparsification.None, false, false),
        (MergeMethod.Ties, "ties", Sparsification.Trim, true, true),
        (MergeMethod.DareLinear, "dare_linear", Sparsification.Dare, false, false),
        (MergeMethod.DareTies, "dare_ties", Sparsification.Dare, true, false),
    ];

    public static IReadOnlyList<string> Names { get; } = Table.Select(row => row.Name).ToArray();

    /// <summary>The spelling in a merge description.</summary>
    public static string Name(this MergeMethod method) => Row(method).Name;

    public static bool TryParse(string name, out MergeMethod method)
    {
        foreach (var row in Table)
        {
            if (row.Name == name)
            {
                method = row.Method;
                return true;
            }
        }
        method = default;
        return false;
    }

    /// <summary>The sparsification a task-vector method always applies; KRM's is its <c>refine</c> setting instead.</summary>
    public static Sparsification FixedSparsification(this MergeMethod method) => Row(method).Sparsification;

    /// <summary>Whether only entries that agree with the elected sign are merged.</summary>
    public static bool UsesSignConsensus(this MergeMethod method) => Row(method).SignConsensus;

    /// <summary>Whether the merged task vector is divided by the weights that contributed, unless told otherwise.</summary>
    public static bool NormalizesByDefault(this MergeMethod method) => Row(method).Normalize;

    private static (MergeMethod Method, string Name, Sparsification Sparsification, bool SignConsensus, bool Normalize) Row(MergeMethod method) =>
        Table.Single(row => row.Method == method);
}
