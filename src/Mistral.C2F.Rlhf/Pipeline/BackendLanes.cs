using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// The backends that independent pipeline stages run on side by side: a stage holds one lane, alone, from its start to
/// its end, and waits for a free one. Lanes are alike (the same backend), so a stage's results do not depend on the lane
/// it ran on, nor on what ran beside it. CPU lanes share the cores (<see cref="SharingCores"/>): at the tiny preset on 2
/// cores a training step took 69 ms alone on two threads and 111 ms on one, so two stages on a thread each do 1.25 times
/// the work of one on both, and a stage alone still has both.
/// </summary>
public sealed class BackendLanes : IDisposable
{
    private readonly Backend[] _backends;
    private readonly bool[] _busy;
    private readonly bool _owned;
    private readonly object _gate = new();
    private readonly SortedSet<(StagePriority Priority, long Ticket)> _waiting = [];
    private long _nextTicket;
    private int? _sharedThreads;

    private BackendLanes(Backend[] backends, bool owned)
    {
        if (backends.Length == 0) throw new ArgumentException("need at least one lane", nameof(backends));
        (_backends, _busy, _owned) = (backends, new bool[backends.Length], owned);
    }

    /// <summary>
    /// <paramref name="count"/> CPU lanes that share <paramref name="threads"/> threads: each busy lane runs its ops on its
    /// share, so a stage alone takes every thread and stages side by side split them without taking more cores than there
    /// are. Results do not depend on the share (the CPU backend's are the same bits on any thread count).
    /// </summary>
    public static BackendLanes SharingCores(int count, int threads)
    {
        if (threads < count) throw new ArgumentException($"{count} lanes need at least as many threads, got {threads}");
        var lanes = Create(count, () => new CpuBackend(threads));
        lanes._sharedThreads = threads;
        return lanes;
    }

    /// <summary>One lane on a backend the caller keeps (and disposes): stages run one at a time.</summary>
    public static BackendLanes Single(Backend backend) => new([backend], owned: false);

    /// <summary><paramref name="count"/> lanes on backends this object creates, and disposes with itself.</summary>
    public static BackendLanes Create(int count, Func<Backend> create)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "need at least one lane");
        var backends = new List<Backend>(count);
        try
        {
            for (int i = 0; i < count; i++) backends.Add(create());
        }
        catch
        {
            foreach (var backend in backends) backend.Dispose();
            throw;
        }
        return new BackendLanes([.. backends], owned: true);
    }

    public int Count => _backends.Length;

    /// <summary>Lanes running a stage now.</summary>
    public int Busy
    {
        get
        {
            lock (_gate) return _busy.Count(busy => busy);
        }
    }

    /// <summary>Stages waiting for a lane now.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate) return _waiting.Count;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a free lane, waiting for one. Of the waiting stages the one of the lowest
    /// <paramref name="priority"/> goes first, then the one that asked first.
    /// </summary>
    public T Run<T>(Func<Backend, T> work, CancellationToken cancellation, StagePriority priority = default)
    {
        int lane = Acquire(priority, cancellation);
        try
        {
            return work(_backends[lane]);
        }
        finally
        {
            lock (_gate)
            {
                _busy[lane] = false;
                ShareThreads();
                Monitor.PulseAll(_gate);
            }
        }
    }

    private int Acquire(StagePriority priority, CancellationToken cancellation)
    {
        using var wake = cancellation.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
        lock (_gate)
        {
            var ticket = (priority, _nextTicket++);
            _waiting.Add(ticket);
            try
            {
                while (true)
                {
                    cancellation.ThrowIfCancellationRequested();
                    int lane = Array.IndexOf(_busy, false);
                    if (lane >= 0 && _waiting.Min == ticket)
                    {
                        _busy[lane] = true;
                        ShareThreads();
                        return lane;
                    }
                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                _waiting.Remove(ticket);
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Gives each busy lane its share of the threads, the first ones a thread more where they do not divide evenly.</summary>
    private void ShareThreads()
    {
        if (_sharedThreads is not int threads) return;
        int busy = _busy.Count(b => b), rank = 0;
        for (int lane = 0; lane < _backends.Length; lane++)
            if (_busy[lane]) ((CpuBackend)_backends[lane]).Threads = threads / busy + (rank++ < threads % busy ? 1 : 0);
    }

    public void Dispose()
    {
        if (_owned)
            foreach (var backend in _backends) backend.Dispose();
    }
}
