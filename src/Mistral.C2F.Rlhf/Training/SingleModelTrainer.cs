using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Data;

namespace Mistral.C2F.Rlhf.Training;

/// <summary>
/// The frame of a trainer of one model on one data stream (SFT, the reward model): the run directory, the shared
/// <see cref="TrainingLoop"/>, and checkpoints of the weights, the optimizer moments and a <see cref="TrainerState"/>,
/// from which a resumed run continues bit for bit. A subclass supplies the step. In a data-parallel job every rank
/// runs the trainer on its share of each batch; rank 0 alone writes the metrics and the checkpoints.
/// </summary>
public abstract class SingleModelTrainer<TOptions, TData, TReport> : IDisposable
    where TOptions : ICheckpointedRunOptions where TData : IDataStream where TReport : IStepReport
{
    private readonly TrainingLoop _loop;
    private readonly TokenizerFiles _tokenizer;
    private readonly string _fingerprint;

    /// <param name="tokenizer">The tokenizer files every checkpoint carries.</param>
    /// <param name="resumed">The state of the checkpoint a resumed run continues from; null for a new run.</param>
    /// <param name="communicator">The job's ranks (the model's optimizer sums over the same ones); null: one process.</param>
    protected SingleModelTrainer(TrainableModel model, TData data, RunSpec<TOptions> spec, string runDirectory, TokenizerFiles tokenizer,
        string fingerprint, TrainerState? resumed, ICommunicator? communicator = null)
    {
        (Model, Data, Spec, _tokenizer, _fingerprint) = (model, data, spec, tokenizer, fingerprint);
        Communicator = communicator ?? SingleProcess.Instance;
        RunDirectory = Path.GetFullPath(runDirectory);
        _loop = new TrainingLoop(RunDirectory, spec.Options.SaveEvery, spec.Options.KeepCheckpoints, spec.Options.MaxConsecutiveSkips,
            Communicator);
        if (resumed is not null) _loop.Restore(resumed.Step, resumed.SkippedSteps, resumed.ConsecutiveSkips);
    }

    public string RunDirectory { get; }
    public int Step => _loop.Step;
    public TOptions Options => Spec.Options;
    public string MetricsPath => _loop.MetricsPath;

    /// <summary>Parameter elements whose AdamW moments this rank keeps, and all of them (ZeRO-1 keeps a range).</summary>
    public (long Kept, long Total) OptimizerState => (Model.Optimizer.StateElements, Model.Optimizer.ParameterElements);

    protected TrainableModel Model { get; }
    protected ICommunicator Communicator { get; }
    protected TData Data { get; }
    protected RunSpec<TOptions> Spec { get; }

    /// <summary>Trains until the options' step count; returns the path of the final checkpoint.</summary>
    public string Run(IProgress<TReport>? progress = null, CancellationToken cancellation = default) =>
        _loop.Run(Options.Steps, TrainStep, SaveCheckpoint, progress, cancellation, Model.Optimizer.GatherState);

    /// <summary>Each rank of a data-parallel job takes as many of every batch's <paramref name="units"/> as the others.</summary>
    protected static void RequireShares(int units, string what, ICommunicator? communicator)
    {
        int ranks = communicator?.Size ?? 1;
        if (units % ranks != 0)
            throw new ArgumentException($"a batch of {units} {what} cannot be shared by {ranks} ranks; make it a multiple of {ranks}");
    }

    /// <summary>One optimizer step, numbered from 1.</summary>
    protected abstract TReport TrainStep(int step);

    private void SaveCheckpoint(string directory)
    {
        Model.Save(directory, _tokenizer);
        new TrainerState(_loop.Step, Model.Optimizer.Step, Data.Position, _loop.SkippedSteps, _loop.ConsecutiveNonFinite, _fingerprint).Save(directory);
    }

    public void Dispose()
    {
        Model.Dispose();
        GC.SuppressFinalize(this);
    }
}
