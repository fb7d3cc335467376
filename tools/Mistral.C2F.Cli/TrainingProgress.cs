using Mistral.C2F.Engine.Training;
using Spectre.Console;

namespace Mistral.C2F.Cli;

/// <summary>A live progress bar with ETA for any trainer, fed by its step reports on the training thread.</summary>
internal static class TrainingProgress
{
    /// <summary>Runs <paramref name="train"/> under a progress bar; returns its result and every report it made.</summary>
    public static (string Result, List<T> History) Show<T>(int firstStep, int totalSteps, Func<T, string> describe,
        Func<IProgress<T>, string> train) where T : IStepReport
    {
        var history = new List<T>();
        string result = "";
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: totalSteps);
                task.Value = firstStep;
                result = train(new SynchronousProgress<T>(report =>
                {
                    history.Add(report);
                    task.Value = report.Step;
                    int skipped = history.Count(h => h.Skipped);
                    task.Description = Markup.Escape($"step {report.Step}/{totalSteps} {describe(report)}" + (skipped > 0 ? $" skipped {skipped}" : ""));
                }));
            });
        return (result, history);
    }
}
