using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>
/// A test whose body runs on every rank of an MPI job, as Go tests re-run themselves in a child process: started by the
/// test runner, the test starts its own assembly under mpirun with a filter naming itself and passes when every rank's run
/// of it passed; started by mpirun, it joins the job and runs the body. Skips, saying why, without mpirun.
/// </summary>
public static partial class MpiTestRanks
{
    public static void Run(int ranks, Type testClass, Action<ICommunicator> body, [CallerMemberName] string test = "")
    {
        if (JobLaunch.Ranks > 1)
        {
            using var job = JobLaunch.Join();
            Assert.Equal(ranks, job.Size);
            body(job);
            return;
        }
        var launcher = MpiLauncher.Ranks(ranks);
        var start = new ProcessStartInfo(launcher[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] rank = ["dotnet", testClass.Assembly.Location, "-method", $"{testClass.FullName}.{test}", "-noLogo", "-noColor"];
        foreach (var arg in launcher.Skip(1).Concat(rank)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var (output, error) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{test} on {ranks} MPI ranks did not finish within 120 s");
        }
        var log = $"exit {process.ExitCode}\nstdout: {output.Result}\nstderr: {error.Result}";
        Assert.True(process.ExitCode == 0, log);
        Assert.True(PassedOnce().Count(output.Result) == ranks, $"each of the {ranks} ranks must run and pass the test once: {log}");
    }

    [GeneratedRegex(@"Total: 1, Errors: 0, Failed: 0, Skipped: 0")]
    private static partial Regex PassedOnce();
}
