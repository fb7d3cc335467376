namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// The time a stage has left, from its steps so far: the rate since its first report (a resumed stage starts at its
/// checkpoint's step), carried over the steps to go. Stages that start or end beside it change its speed, so it is an
/// estimate that corrects itself as the stage goes on.
/// </summary>
public sealed class StageTimeLeft
{
    private readonly Dictionary<string, (TimeSpan At, int Step)> _firstReport = [];

    /// <summary>The time <paramref name="progress"/>'s stage has left at <paramref name="now"/>; null before a second report or after the last step.</summary>
    public TimeSpan? Estimate(PipelineProgress progress, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (progress.TotalSteps <= 0) return null;
        if (!_firstReport.TryGetValue(progress.Stage, out var first)) _firstReport[progress.Stage] = first = (now, progress.Step);
        int done = progress.Step - first.Step, left = progress.TotalSteps - progress.Step;
        return done > 0 && left > 0 && now > first.At ? (now - first.At) / done * left : null;
    }
}
