using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Engine.Training;

/// <summary>What a trainer reports for one step.</summary>
public interface IStepReport
{
    int Step { get; }
    /// <summary>No update was made.</summary>
    bool Skipped { get; }
    /// <summary>The loss or the gradient was not finite: a sign of divergence, counted toward stopping the run.</summary>
    bool NonFinite { get; }
    JsonObject ToJson();
}

/// <summary>
/// The outer loop every trainer shares: steps until the total, one metrics line per step (with the run's count of
/// skipped steps), a checkpoint every <c>saveEvery</c> steps and at the end, a checkpoint and a stop on cancellation,
/// and a stop with the last good checkpoint named when too many steps in a row were not finite. In a data-parallel job
/// every rank runs the loop and rank 0 alone keeps the metrics and the checkpoints; a cancellation on any rank stops
/// every rank before the same step, and the others leave only once rank 0's checkpoint is whole (mpirun would kill rank 0
/// mid-save as soon as another rank exited).
/// </summary>
/// <param name="communicator">The ranks of a data-parallel job, stepping in lockstep; null: one process.</param>
public sealed class TrainingLoop(string runDirectory, int saveEvery, int keepCheckpoints, int maxConsecutiveSkips, ICommunicator? communicator = null)
{
    private readonly ICommunicator _communicator = communicator ?? SingleProcess.Instance;

    public CheckpointDirectory Checkpoints { get; } = new(runDirectory, keepCheckpoints);
    public string MetricsPath { get; } = Path.Combine(Path.GetFullPath(runDirectory), "metrics.jsonl");

    /// <summary>Steps done.</summary>
    public int Step { get; private set; }
    public int SkippedSteps { get; private set; }
    public int ConsecutiveNonFinite { get; private set; }

    /// <summary>Continues the counts of a resumed run.</summary>
    public void Restore(int step, int skippedSteps, int consecutiveNonFinite) =>
        (Step, SkippedSteps, ConsecutiveNonFinite) = (step, skippedSteps, consecutiveNonFinite);

    /// <summary>Runs steps Step+1..totalSteps; returns the final checkpoint's path.</summary>
    /// <param name="save">Writes a checkpoint of the current state into the directory it is given (on rank 0).</param>
    /// <param name="gatherForSave">Runs on every rank before each checkpoint: the collectives rank 0's <paramref name="save"/>
    /// needs (ZeRO-1's optimizer state gathered).</param>
    public string Run<TReport>(int totalSteps, Func<int, TReport> step, Action<string> save, IProgress<TReport>? progress,
        CancellationToken cancellation, Action? gatherForSave = null) where TReport : IStepReport
    {
        void Save()
        {
            gatherForSave?.Invoke();
            if (Writes) Checkpoints.Save(Step, save);
        }

        using var metrics = Writes ? new MetricsLog(MetricsPath, resumedFromStep: Step) : null;
        while (Step < totalSteps)
        {
            if (StopRequested(cancellation))
            {
                if (Step > 0) Save(); // an interrupted run keeps its progress
                _communicator.Barrier();
                throw new OperationCanceledException(cancellation.IsCancellationRequested ? cancellation : CancellationToken.None);
            }
            var report = step(Step + 1);
            Step++;
            SkippedSteps += report.Skipped ? 1 : 0;
            ConsecutiveNonFinite = report.NonFinite ? ConsecutiveNonFinite + 1 : 0;
            var json = report.ToJson();
            json["skipped_steps"] = SkippedSteps;
            metrics?.Write(json);
            progress?.Report(report);
            if (ConsecutiveNonFinite > maxConsecutiveSkips)
                throw new TrainingDivergedException($"{ConsecutiveNonFinite} steps in a row had a non-finite loss or gradient (last: step {Step}); " +
                    $"stopping. The last good checkpoint is {Checkpoints.Latest ?? "none (no step was saved)"}");
            if (Step % saveEvery == 0 || Step == totalSteps) Save();
        }
        return Writes ? Checkpoints.Latest ?? throw new InvalidOperationException("the run has no checkpoint") : Checkpoints.PathOf(Step);
    }

    private bool Writes => _communicator.IsRoot;

    /// <summary>Whether any rank was cancelled: every rank asks before each step, so all stop before the same one.</summary>
    private bool StopRequested(CancellationToken cancellation)
    {
        if (_communicator.Size == 1) return cancellation.IsCancellationRequested;
        Span<float> requests = [cancellation.IsCancellationRequested ? 1 : 0];
        _communicator.AllReduceSum(requests);
        return requests[0] > 0;
    }
}
