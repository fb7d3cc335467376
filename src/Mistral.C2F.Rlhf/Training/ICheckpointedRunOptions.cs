namespace Mistral.C2F.Rlhf.Training;

/// <summary>The options of a run: they check themselves, with messages that name the setting.</summary>
public interface IRunOptions
{
    void Validate();
}

/// <summary>The options every checkpointed run of one model has, by the same names.</summary>
public interface ICheckpointedRunOptions : IRunOptions
{
    int Steps { get; }
    int SaveEvery { get; }
    int KeepCheckpoints { get; }
    int MaxConsecutiveSkips { get; }
}
