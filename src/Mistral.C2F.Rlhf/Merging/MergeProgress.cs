namespace Mistral.C2F.Rlhf.Merging;

/// <summary>Reported after each merged tensor is written: the <paramref name="Tensor"/>-th of <paramref name="TensorCount"/>.</summary>
public sealed record MergeProgress(int Tensor, int TensorCount, string Name, long ElementsDone, long TotalElements);
