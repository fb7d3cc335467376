using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// The backends that independent pipeline stages run on side by side: a stage holds one lane, alone, from its start to
/// its end, and waits for a free one. Lanes are alike (the same backend, the same threads), so a stage's results do not
/// depend on the lane it ran on, nor on what ran beside it. On the CPU each lane has every thread: a stage alone uses every
/// core, and two stages side by side share them (at the tiny preset a training step on 2 cores took 69 ms alone on two
/// threads, 111 ms on one, and 115 ms with a second two-thread step beside it).
/// </summary>
public sealed class BackendLanes : IDisposable
{
    private readonly Backend[] _backends;
    private readonly bool[] _busy;
    private readonly bool _owned;
    private readonly object _gate = new();
    private readonly SortedSet<(int Priority, long Ticket)> _waiting = [];
    private long _nextTicket;

    private BackendLanes(Backend[] backends, bool owned)
    {
        if (backends.Length == 0) throw new ArgumentException("need at least one lane", nameof(backends));
        (_backends, _busy, _owned) = (backends, new bool[backends.Length], owned);
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
    /// Runs <paramref name="work"/> on a free lane, waiting for one. Of the waiting stages the lowest
    /// <paramref name="priority"/> goes first (the earlier seed of a sweep: it tends to finish first), then the earliest.
    /// </summary>
    public T Run<T>(Func<Backend, T> work, CancellationToken cancellation, int priority = 0)
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
                Monitor.PulseAll(_gate);
            }
        }
    }

    private int Acquire(int priority, CancellationToken cancellation)
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

    public void Dispose()
    {
        if (_owned)
            foreach (var backend in _backends) backend.Dispose();
    }
}
