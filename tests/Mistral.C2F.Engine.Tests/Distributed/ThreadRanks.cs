using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Engine.Tests.Distributed;

/// <summary>
/// A job of <c>size</c> ranks as threads of this process, for testing what runs over the ranks without mpirun: each
/// collective posts every rank's buffer, waits for all, and reads the others' (sums in rank order).
/// </summary>
internal sealed class ThreadRanks(int size)
{
    private readonly Barrier _barrier = new(size);
    private readonly Array?[] _posted = new Array?[size];

    /// <summary>Runs <paramref name="work"/> on every rank, each on its own thread, and returns their results in rank order.</summary>
    public T[] Run<T>(Func<ICommunicator, T> work)
    {
        var tasks = Enumerable.Range(0, size).Select(rank => Task.Factory.StartNew(() => work(new RankCommunicator(this, rank)), TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(Task.WaitAll(tasks, TimeSpan.FromSeconds(60)), "the ranks did not finish within 60 s");
        return tasks.Select(t => t.Result).ToArray();
    }

    /// <summary>Every rank's <paramref name="mine"/>, in rank order, to <paramref name="read"/>.</summary>
    private void Exchange<T>(int rank, T[] mine, Action<T[][]> read)
    {
        _posted[rank] = mine;
        _barrier.SignalAndWait();
        read(_posted.Select(p => (T[])p!).ToArray());
        _barrier.SignalAndWait();
    }

    private sealed class RankCommunicator(ThreadRanks job, int rank) : ICommunicator
    {
        public int Rank => rank;
        public int Size => job._posted.Length;

        public void AllReduceSum(Span<float> values) => Sum(values, values.ToArray(), 0);

        public void AllReduceSum(Span<double> values)
        {
            var result = new double[values.Length];
            job.Exchange(rank, values.ToArray(), all =>
            {
                foreach (var part in all)
                    for (int i = 0; i < result.Length; i++) result[i] += part[i];
            });
            result.CopyTo(values);
        }

        public void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> share)
        {
            Assert.Equal(share.Length * Size, values.Length);
            Sum(share, values.ToArray(), rank * share.Length);
        }

        public void AllGather(ReadOnlySpan<float> share, Span<float> values) => Gather(share.ToArray(), values);

        public void AllGather(ReadOnlySpan<double> share, Span<double> values) => Gather(share.ToArray(), values);

        public void Broadcast(Span<byte> values, int root)
        {
            var received = new byte[values.Length];
            job.Exchange(rank, values.ToArray(), all => all[root].CopyTo(received, 0));
            received.CopyTo(values);
        }

        public void Barrier() => job.Exchange(rank, Array.Empty<int>(), _ => { });

        public void Dispose() { }

        /// <summary><paramref name="result"/> = Σ over the ranks of their elements from <paramref name="offset"/>.</summary>
        private void Sum(Span<float> result, float[] mine, int offset)
        {
            var sums = new float[result.Length];
            job.Exchange(rank, mine, all =>
            {
                foreach (var part in all)
                    for (int i = 0; i < sums.Length; i++) sums[i] += part[offset + i];
            });
            sums.CopyTo(result);
        }

        private void Gather<T>(T[] share, Span<T> values)
        {
            Assert.Equal(share.Length * Size, values.Length);
            var whole = new T[values.Length];
            job.Exchange(rank, share, all =>
            {
                for (int r = 0; r < all.Length; r++) all[r].CopyTo(whole, r * share.Length);
            });
            whole.CopyTo(values);
        }
    }
}
