using System.Diagnostics;
using Mistral.C2F.Rlhf.Pipeline;

namespace Mistral.C2F.Cli;

/// <summary>
/// The status of a pipeline whose stages run side by side: the latest line of each of the stages that reported last, one a
/// lane, with the time each has left. A redirected console prints every status change as a line, so there each stage
/// updates at most once a second.
/// </summary>
internal sealed class StageBoard(Stopwatch clock, int lanes, bool interactive)
{
    private readonly Dictionary<string, (string Line, TimeSpan At)> _latest = [];
    private readonly TimeSpan _interval = TimeSpan.FromSeconds(interactive ? 0.1 : 1);
    private readonly StageTimeLeft _timeLeft = new();

    public string Line(PipelineProgress p)
    {
        var now = clock.Elapsed;
        string steps = p.TotalSteps > 0 ? $" {p.Step}/{p.TotalSteps}" : "";
        string left = _timeLeft.Estimate(p, now) is { } estimate ? $" ({Clock(estimate)} left)" : "";
        return $"[{Clock(now)}] {p.Stage}{steps}{left}: {p.Message}";
    }

    /// <summary>Minutes and seconds, the minutes not wrapping at the hour (a sweep of five seeds runs longer).</summary>
    public static string Clock(TimeSpan elapsed) => $"{(int)elapsed.TotalMinutes:00}:{elapsed.Seconds:00}";

    /// <summary>The status to show after <paramref name="p"/>, or null when this stage updated too recently to show it again.</summary>
    public string? Update(PipelineProgress p)
    {
        var now = clock.Elapsed;
        if (_latest.TryGetValue(p.Stage, out var last) && now - last.At < _interval) return null;
        _latest[p.Stage] = (Line(p), now);
        var shown = _latest.OrderByDescending(entry => entry.Value.At).Take(lanes).OrderBy(entry => entry.Key, StringComparer.Ordinal).ToList();
        foreach (var stale in _latest.Keys.Except(shown.Select(entry => entry.Key)).ToList()) _latest.Remove(stale);
        return interactive ? string.Join(Environment.NewLine, shown.Select(entry => entry.Value.Line)) : _latest[p.Stage].Line;
    }
}
