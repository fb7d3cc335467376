using System.Diagnostics;
using System.Text;

namespace Mistral.C2F.Rlhf.Tests.Hostile;

/// <summary>What a bounded run of the console did: its exit code, its output, and whether it was killed for a bound.</summary>
public sealed record ConsoleRun(int ExitCode, string Output, string Error, TimeSpan Elapsed, long PeakResidentBytes, string? KilledFor)
{
    /// <summary>The lines of standard error.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() =>
        $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s, peak {PeakResidentBytes >> 20} MiB{(KilledFor is null ? "" : $", killed: {KilledFor}")}\n" +
        $"stderr: {Error}\nstdout (end): {Output[Math.Max(0, Output.Length - 400)..]}";
}

/// <summary>
/// The c2f console as a child process (<c>dotnet c2f.dll</c>, built beside the tests; C2F_CONSOLE_UNDER_TEST names another
/// build, e.g. an older one to show a test failing), held to a wall-clock limit and a bound on its resident memory: a process
/// past either is killed, and the result says which. Memory is read from /proc every few milliseconds, so the bound holds
/// on Linux, where CI runs; elsewhere runs are bounded in time alone.
/// </summary>
public static class ConsoleProcess
{
    public static string ConsolePath =>
        Environment.GetEnvironmentVariable("C2F_CONSOLE_UNDER_TEST") is { Length: > 0 } other ? other : Path.Combine(AppContext.BaseDirectory, "c2f.dll");

    /// <summary>Starts the console; its output is collected into the builders.</summary>
    /// <param name="launcher">A program that starts the console, with its arguments (mpirun); null: the console alone.</param>
    public static Process Start(IEnumerable<string> args, StringBuilder output, StringBuilder error, string? workingDirectory = null,
        IReadOnlyList<string>? launcher = null)
    {
        var start = new ProcessStartInfo(launcher?[0] ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (launcher is not null)
        {
            foreach (var arg in launcher.Skip(1)) start.ArgumentList.Add(arg);
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(ConsolePath);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        start.Environment["C2F_DEBUG"] = null;
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (error) error.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static ConsoleRun Run(TimeSpan timeLimit, long memoryLimitBytes, params string[] args) => Run(timeLimit, memoryLimitBytes, null, null, args);

    /// <param name="launcher">As for <see cref="Start"/>.</param>
    /// <param name="whileRunning">Called every few milliseconds with the time so far, while the process runs.</param>
    public static ConsoleRun Run(TimeSpan timeLimit, long memoryLimitBytes, IReadOnlyList<string>? launcher, Action<TimeSpan>? whileRunning,
        params string[] args)
    {
        StringBuilder output = new(), error = new();
        var clock = Stopwatch.StartNew();
        using var process = Start(args, output, error, launcher: launcher);
        long peak = 0;
        string? killedFor = null;
        while (!process.WaitForExit(5))
        {
            whileRunning?.Invoke(clock.Elapsed);
            peak = Math.Max(peak, ResidentBytes(process.Id));
            killedFor = peak > memoryLimitBytes ? $"resident memory {peak >> 20} MiB over the bound of {memoryLimitBytes >> 20} MiB"
                : clock.Elapsed > timeLimit ? $"still running after {timeLimit.TotalSeconds:F0} s" : null;
            if (killedFor is null) continue;
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            break;
        }
        process.WaitForExit(); // drains the output readers
        return new ConsoleRun(process.ExitCode, output.ToString(), error.ToString(), clock.Elapsed, peak, killedFor);
    }

    /// <summary>VmRSS of a live process; 0 where /proc cannot say (not Linux, or the process just ended).</summary>
    public static long ResidentBytes(int processId)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{processId}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim()) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return 0;
    }
}

/// <summary>What the hostile tests expect of a failing run.</summary>
public static class ConsoleAssert
{
    /// <summary>Exit code 1 within the bounds, and one error line (after any warnings) holding every fragment.</summary>
    public static void OneLineError(ConsoleRun run, params string[] fragments)
    {
        Assert.True(run.KilledFor is null, run.ToString());
        Assert.True(run.ExitCode == 1, run.ToString());
        var errors = run.ErrorLines.Where(line => !line.StartsWith("c2f: warning:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1 && errors[0].StartsWith("c2f: error: ", StringComparison.Ordinal), run.ToString());
        foreach (var fragment in fragments) Assert.True(errors[0].Contains(fragment, StringComparison.Ordinal), $"'{fragment}' not in: {errors[0]}");
        Assert.DoesNotContain("Exception", errors[0], StringComparison.Ordinal);
    }
}
