using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>The parameter groups that get their own merge coefficient λ.</summary>
public enum ParameterGroup
{
    /// <summary>Token embeddings and the output head.</summary>
    Embeddings,
    /// <summary>The q, k, v and o projections.</summary>
    Attention,
    /// <summary>The gate, up and down projections.</summary>
    Mlp,
    /// <summary>RMSNorm weights.</summary>
    Norms,
    /// <summary>Any other tensor; it takes the default λ.</summary>
    Other,
}

public static class ParameterGroups
{
    // With the leading dot, so that "xself_attn.q_proj.weight" is not taken for a q projection.
    private static readonly string[] AttentionSuffixes =
    [
        "." + MistralParameterNames.QueryProjection, "." + MistralParameterNames.KeyProjection,
        "." + MistralParameterNames.ValueProjection, "." + MistralParameterNames.OutputProjection,
    ];

    private static readonly string[] MlpSuffixes =
        ["." + MistralParameterNames.GateProjection, "." + MistralParameterNames.UpProjection, "." + MistralParameterNames.DownProjection];

    /// <summary>The group of a Hugging Face tensor name.</summary>
    public static ParameterGroup Of(string tensorName)
    {
        if (tensorName is MistralParameterNames.Embedding or MistralParameterNames.LmHead) return ParameterGroup.Embeddings;
        // Norms first: a norm inside an attention block (q_norm in some architectures) is still a norm.
        if (tensorName.EndsWith("norm.weight", StringComparison.Ordinal)) return ParameterGroup.Norms;
        if (EndsWithAny(tensorName, AttentionSuffixes)) return ParameterGroup.Attention;
        if (EndsWithAny(tensorName, MlpSuffixes)) return ParameterGroup.Mlp;
        return ParameterGroup.Other;
    }

    private static bool EndsWithAny(string name, string[] suffixes)
    {
        foreach (var suffix in suffixes)
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
