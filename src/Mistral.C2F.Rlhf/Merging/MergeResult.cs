using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>What a merge wrote.</summary>
/// <param name="BufferBytes">The float32 working buffers the merge held: (inputs + 1) × the largest tensor.</param>
public sealed record MergeResult(string Directory, MergeMethod Method, int Tensors, long Parameters, DType Storage,
    IReadOnlyList<string> WeightFiles, long BufferBytes, TimeSpan Elapsed);
