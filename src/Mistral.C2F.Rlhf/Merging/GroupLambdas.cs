namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// The merge coefficient λ of each parameter group: a group without its own value takes <see cref="Default"/>.
/// </summary>
public sealed record GroupLambdas(float Default = 1f, float? Embeddings = null, float? Attention = null, float? Mlp = null, float? Norms = null)
{
    public float For(ParameterGroup group) => group switch
    {
        ParameterGroup.Embeddings => Embeddings ?? Default,
        ParameterGroup.Attention => Attention ?? Default,
        ParameterGroup.Mlp => Mlp ?? Default,
        ParameterGroup.Norms => Norms ?? Default,
        _ => Default,
    };

    public float For(string tensorName) => For(ParameterGroups.Of(tensorName));

    /// <summary>Every value with the name a merge description gives it.</summary>
    public IEnumerable<(string Key, float? Value)> Entries() =>
        [("default", Default), ("embeddings", Embeddings), ("attention", Attention), ("mlp", Mlp), ("norms", Norms)];
}
