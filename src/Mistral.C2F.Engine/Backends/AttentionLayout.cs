namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// How an attention call's positions are laid out, stated by the code that made them (it built them on the host), so no
/// backend has to inspect positions on the device to choose a kernel. Both layouts give the same result; the statement
/// only lets a backend take a kernel that needs the stronger one (flash attention on the CUDA backend's tensor cores).
/// </summary>
public enum AttentionLayout
{
    /// <summary>Any positions: queries and keys each with their own, such as a chunk attending to a KV-cache ring.</summary>
    Explicit,

    /// <summary>
    /// Self-attention over sequences: queries and keys are one position tensor [batch, length] whose every row holds
    /// consecutive positions from a non-negative start over its first slots, then only empty slots (-1) to its end
    /// (right padding). Training, scoring and prefill batches without a cache.
    /// </summary>
    Sequences,
}
