namespace Mistral.C2F.Rlhf.Training;

/// <summary>The options every checkpointed run of one model has, by the same names.</summary>
public interface ICheckpointedRunOptions
{
    int Steps { get; }
    int SaveEvery { get; }
    int KeepCheckpoints { get; }
    int MaxConsecutiveSkips { get; }
}
