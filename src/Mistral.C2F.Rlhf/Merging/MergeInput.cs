using Mistral.C2F.Engine.Checkpoints;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>An opened input model and its role in the merge (base, instruct, coarse, models[i]), for error messages.</summary>
internal sealed record MergeInput(string Role, SafeTensorsCheckpoint Checkpoint)
{
    public string Directory => Checkpoint.Directory;
}
