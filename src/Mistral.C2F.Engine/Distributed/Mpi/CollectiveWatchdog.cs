using System.Globalization;
using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Distributed.Mpi;

/// <summary>
/// Bounds the time one rank waits in a collective for the others. A rank that dies ends the job at once (mpirun tears
/// the others down), but one that hangs or is stopped leaves the rest blocked inside MPI for good; past the bound this
/// rank says so on stderr and exits, so mpirun ends the whole job. The bound must exceed the longest wait a healthy job
/// has: the other ranks wait in the next step's all-reduce while rank 0 writes a checkpoint.
/// </summary>
internal sealed partial class CollectiveWatchdog : IDisposable
{
    public const string TimeoutVariable = "C2F_COLLECTIVE_TIMEOUT";

    /// <summary>Ten minutes: longer than rank 0 takes to write a 7B model's checkpoint with its optimizer state.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    private readonly Timer _timer;
    private readonly TimeSpan _timeout;
    private string _call = "";

    public CollectiveWatchdog(int rank, TimeSpan timeout)
    {
        _timeout = timeout;
        _timer = new Timer(_ =>
        {
            Console.Error.WriteLine($"c2f: error: rank {rank}: {_call} waited {_timeout.TotalSeconds:0} s for the other ranks, one of which " +
                $"stopped responding; ending the job (the bound is {TimeoutVariable}, in seconds)");
            Console.Error.Flush();
            // Not Environment.Exit: its handlers could wait on MPI, which this rank's main thread is stuck in.
            ExitNow(1);
        });
    }

    /// <summary>The bound <see cref="TimeoutVariable"/> sets, in seconds; <see cref="DefaultTimeout"/> without it.</summary>
    public static TimeSpan TimeoutFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(TimeoutVariable);
        if (string.IsNullOrEmpty(text)) return DefaultTimeout;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && double.IsFinite(seconds)
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentException($"{TimeoutVariable}={text}: the collective timeout is a positive number of seconds");
    }

    /// <summary>Runs <paramref name="collective"/> under the bound.</summary>
    public int Run(string call, Func<int> collective)
    {
        _call = call;
        _timer.Change(_timeout, Timeout.InfiniteTimeSpan);
        try
        {
            return collective();
        }
        finally
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _timer.Dispose();

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void ExitNow(int status);
}
