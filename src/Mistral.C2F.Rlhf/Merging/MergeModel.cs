namespace Mistral.C2F.Rlhf.Merging;

/// <summary>A model whose task vector is merged: its directory, its weight w and, optionally, its own density.</summary>
public sealed record MergeModel(string Path, float Weight = 1f, double? Density = null);
