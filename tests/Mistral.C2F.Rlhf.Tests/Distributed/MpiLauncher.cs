namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>This machine's Open MPI <c>mpirun</c> as a launcher of the console, or a skip when it is not installed.</summary>
public static class MpiLauncher
{
    /// <summary>
    /// mpirun with <paramref name="ranks"/> ranks on this machine: as root too, more ranks than cores allowed, and the
    /// isolated launcher, which starts local ranks without the ssh client mpirun otherwise insists on finding.
    /// </summary>
    public static string[] Ranks(int ranks)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (found is null) Assert.Skip("no mpirun: Open MPI is not installed (Debian: openmpi-bin)");
        return [found, "--allow-run-as-root", "--oversubscribe", "--mca", "plm", "isolated", "-np", ranks.ToString()];
    }
}
