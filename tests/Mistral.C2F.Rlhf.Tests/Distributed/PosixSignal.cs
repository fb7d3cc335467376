using System.Runtime.InteropServices;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>Signals sent with libc's kill(2), so the tests need no kill binary (Linux numbering).</summary>
public static partial class PosixSignal
{
    public const int Interrupt = 2, Kill = 9, Stop = 19;

    /// <summary>Sends <paramref name="signal"/> to the process; false when it is gone or not ours.</summary>
    public static bool Send(int processId, int signal) => kill(processId, signal) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
