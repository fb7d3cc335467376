using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Rlhf.Pipeline;

namespace Mistral.C2F.Rlhf.Tests.Pipeline;

/// <summary>Stages side by side: a lane runs one stage at a time, waiting stages go by priority, a failure stops the others.</summary>
[Trait("Backend", "cpu")]
public sealed class BackendLanesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Never_more_stages_run_than_lanes_and_no_two_share_a_backend()
    {
        using var lanes = BackendLanes.Create(2, () => new CpuBackend(1));
        using var stages = new ConcurrentStages(TestContext.Current.CancellationToken);
        var holders = new Dictionary<Backend, int>();
        int running = 0, mostRunning = 0, distinct = 0;
        var seen = new HashSet<Backend>();
        var tasks = Enumerable.Range(0, 8).Select(i => stages.Start(stop => lanes.Run(backend =>
        {
            lock (holders)
            {
                Assert.False(holders.ContainsKey(backend), $"stage {i} was given a backend stage {holders.GetValueOrDefault(backend)} holds");
                holders[backend] = i;
                mostRunning = Math.Max(mostRunning, ++running);
                if (seen.Add(backend)) distinct++;
            }
            Thread.Sleep(20);
            lock (holders)
            {
                holders.Remove(backend);
                running--;
            }
            return i;
        }, stop))).ToList();

        Assert.Equal(Enumerable.Range(0, 8), tasks.Select(stages.Result));
        Assert.Equal(2, mostRunning);
        Assert.Equal(2, distinct);
    }

    [Fact]
    public void Waiting_stages_take_the_lane_lowest_priority_first_then_earliest()
    {
        using var lanes = BackendLanes.Create(1, () => new CpuBackend(1));
        using var stages = new ConcurrentStages(TestContext.Current.CancellationToken);
        using var release = new ManualResetEventSlim();
        var order = new List<string>();
        var holder = stages.Start(stop => lanes.Run(_ => release.Wait(Patience), stop));
        SpinWait.SpinUntil(() => lanes.Busy == 1, Patience);
        var waiters = new List<Task<bool>>();
        foreach (var (name, priority) in new[] { ("late seed", 2), ("first seed", 0), ("second seed, first", 1), ("second seed, second", 1) })
        {
            int queued = lanes.Waiting;
            waiters.Add(stages.Start(stop => lanes.Run(_ =>
            {
                lock (order) order.Add(name);
                return true;
            }, stop, priority)));
            Assert.True(SpinWait.SpinUntil(() => lanes.Waiting == queued + 1, Patience), $"{name} never queued");
        }
        release.Set();
        Assert.True(stages.Result(holder));
        Assert.All(waiters, waiter => Assert.True(stages.Result(waiter)));
        Assert.Equal(["first seed", "second seed, first", "second seed, second", "late seed"], order);
    }

    [Fact]
    public void The_first_failure_cancels_the_other_stages_and_is_what_their_results_throw()
    {
        using var lanes = BackendLanes.Create(1, () => new CpuBackend(1));
        var stages = new ConcurrentStages(TestContext.Current.CancellationToken);
        bool stoppedInTime = false;
        var longRun = stages.Start(stop =>
        {
            stoppedInTime = stop.WaitHandle.WaitOne(Patience);
            stop.ThrowIfCancellationRequested();
            return 1;
        });
        var failing = stages.Start(stop => lanes.Run<int>(_ => throw new InvalidDataException("corrupt checkpoint"), stop));
        var waiting = stages.Start(stop => lanes.Run(_ => 2, stop));

        Assert.Equal("corrupt checkpoint", Assert.Throws<InvalidDataException>(() => stages.Result(longRun)).Message);
        Assert.True(stoppedInTime);
        Assert.Throws<InvalidDataException>(() => stages.Result(failing));
        // The third either ran before the failure or was cancelled by it; cancelled, it reports the failure.
        if (!waiting.IsCompletedSuccessfully) Assert.Throws<InvalidDataException>(() => stages.Result(waiting));
        stages.Dispose();
        Assert.All(new Task[] { longRun, failing, waiting }, task => Assert.True(task.IsCompleted));
    }

    [Fact]
    public void A_lane_count_below_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BackendLanes.Create(0, () => new CpuBackend(1)));
    }
}
