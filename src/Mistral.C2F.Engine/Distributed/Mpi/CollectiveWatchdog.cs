using System.Globalization;
using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Distributed.Mpi;

/// <summary>
/// Bounds the time one rank waits in a collective for the others. A rank that dies ends the job at once (mpirun tears
/// the others down), but one that hangs or is stopped leaves the rest blocked inside MPI for good; past the bound this
/// rank says so on stderr and exits, so mpirun ends the whole job. The bound must exceed the longest wait a healthy job
/// has: the other ranks wait in the next step's all-reduce while rank 0 writes a checkpoint. With a
/// <see cref="CollectiveProgress"/> (ranks on one machine) the error names the ranks that never arrived.
/// </summary>
internal sealed partial class CollectiveWatchdog : IDisposable
{
    public const string TimeoutVariable = "C2F_COLLECTIVE_TIMEOUT";

    /// <summary>Ten minutes: longer than rank 0 takes to write a 7B model's checkpoint with its optimizer state.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    private readonly Timer _timer;
    private readonly TimeSpan _timeout;
    private string _call = "";
    private long _sequence;
    private CollectiveProgress? _progress;

    public CollectiveWatchdog(int rank, TimeSpan timeout)
    {
        _timeout = timeout;
        _timer = new Timer(_ =>
        {
            Console.Error.WriteLine($"c2f: error: rank {rank}: {_call} waited {_timeout.TotalSeconds:0} s for {Missing()}; ending the job " +
                $"(the bound is {TimeoutVariable}, in seconds)");
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

    /// <summary>From here on, each collective is counted in <paramref name="progress"/>, so that a timeout names the ranks behind.</summary>
    public void Track(CollectiveProgress progress) => _progress = progress;

    /// <summary>Runs <paramref name="collective"/> under the bound.</summary>
    public int Run(string call, Func<int> collective)
    {
        _call = call;
        _progress?.Enter(++_sequence);
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

    /// <summary>The ranks this one waits for: those whose count of collectives is behind, where the job has a progress board.</summary>
    private string Missing()
    {
        var behind = _progress?.Behind(_sequence) ?? [];
        if (behind.Count == 0) return "the other ranks, one of which stopped responding";
        string ranks = string.Join(", ", behind.Select(b => $"rank {b.Rank} (stopped at collective {b.Entered})"));
        return $"{ranks}, which stopped responding before collective {_sequence}";
    }

    public void Dispose() => _timer.Dispose();

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void ExitNow(int status);
}
