using System.Diagnostics;

namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// Wall time and call count per op, collected when attached to a backend (<see cref="Backend.Profile"/>).
/// Ops run synchronously on host backends, so the time of a call is the kernel's time.
/// </summary>
public sealed class OpProfile
{
    private readonly Dictionary<string, (long Ticks, long Calls)> _ops = [];

    public IReadOnlyList<(string Op, TimeSpan Time, long Calls)> Entries
    {
        get
        {
            lock (_ops) return _ops.Select(e => (e.Key, Stopwatch.GetElapsedTime(0, e.Value.Ticks), e.Value.Calls)).OrderByDescending(e => e.Item2).ToList();
        }
    }

    public TimeSpan Total => Entries.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Time);

    public void Reset()
    {
        lock (_ops) _ops.Clear();
    }

    internal void Add(string op, long ticks)
    {
        lock (_ops)
        {
            var (total, calls) = _ops.GetValueOrDefault(op);
            _ops[op] = (total + ticks, calls + 1);
        }
    }

    /// <summary>Times a scope; a no-op when no profile is attached.</summary>
    internal readonly struct Scope(OpProfile? profile, string op) : IDisposable
    {
        private readonly long _start = profile is null ? 0 : Stopwatch.GetTimestamp();

        public void Dispose() => profile?.Add(op, Stopwatch.GetTimestamp() - _start);
    }
}
