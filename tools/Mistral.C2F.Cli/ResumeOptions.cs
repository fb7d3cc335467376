using System.CommandLine;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Cli;

/// <summary>
/// What <c>--resume</c> takes. A resumed run continues with the options saved in its run directory, so an option that
/// would change them is refused rather than ignored; a step count must leave steps to train; and a longer run than
/// planned reshapes the learning-rate schedule, which is said aloud.
/// </summary>
internal static class ResumeOptions
{
    /// <summary>Fails when an option of <paramref name="command"/> other than <paramref name="taken"/> was given on the command line.</summary>
    public static void RequireOnly(ParseResult parse, Command command, params Option[] taken)
    {
        var given = command.Options.Where(option => !taken.Contains(option) && parse.GetResult(option) is { Implicit: false })
            .Select(option => option.Name).ToList();
        if (given.Count > 0)
            throw new ArgumentException($"--resume continues with the options saved in the run directory and takes only " +
                $"{string.Join(", ", taken.Select(option => option.Name))}; remove {string.Join(", ", given)}");
    }

    /// <summary>Fails when the run already stands at (or past) the count it would train to.</summary>
    public static void RequireStepsLeft(int done, int total, string runDirectory, string option)
    {
        if (done < total) return;
        throw new ArgumentException(done == total
            ? $"{runDirectory} is complete at step {done}; pass {option} N with N > {done} to train further"
            : $"{option} {total}: {runDirectory} is at step {done} already; pass {option} N with N > {done} to train further");
    }

    /// <summary>
    /// Warns when a new step count changes the learning rate of the steps to come: the cosine decay spans the total.
    /// <paramref name="step"/> names what the schedule counts: "step", or "iteration" for PPO.
    /// </summary>
    public static void WarnScheduleChange(int done, LearningRateSchedule saved, LearningRateSchedule resumed, string step)
    {
        if (saved.TotalSteps == resumed.TotalSteps) return;
        Warnings.Report($"the run was planned for {saved.TotalSteps} {step}s and now runs to {resumed.TotalSteps}: its learning-rate schedule " +
            $"decays over {resumed.TotalSteps} {step}s from here, so {step} {done + 1} runs at {resumed.At(done + 1):E2} " +
            $"({step} {done} ran at {saved.At(Math.Max(1, done)):E2}); a run started with {resumed.TotalSteps} {step}s would differ from {step} {saved.WarmupSteps + 1} on");
    }
}
