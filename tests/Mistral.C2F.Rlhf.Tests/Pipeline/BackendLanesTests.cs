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
        int mostRunning = 0;
        var seen = new HashSet<Backend>();
        var tasks = Enumerable.Range(0, 8).Select(i => stages.Start(stop => lanes.Run(backend =>
        {
            lock (holders)
            {
                Assert.False(holders.ContainsKey(backend), $"stage {i} was given a backend stage {holders.GetValueOrDefault(backend)} holds");
                holders[backend] = i;
                mostRunning = Math.Max(mostRunning, holders.Count);
                seen.Add(backend);
            }
            Thread.Sleep(20);
            lock (holders) holders.Remove(backend);
            return i;
        }, stop))).ToList();

        Assert.Equal(Enumerable.Range(0, 8), tasks.Select(stages.Result));
        Assert.Equal(2, mostRunning);
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void Waiting_stages_take_the_lane_by_step_then_seed_then_arrival()
    {
        using var lanes = BackendLanes.Create(1, () => new CpuBackend(1));
        using var stages = new ConcurrentStages(TestContext.Current.CancellationToken);
        using var release = new ManualResetEventSlim();
        var order = new List<string>();
        var holder = stages.Start(stop => lanes.Run(_ => release.Wait(Patience), stop));
        SpinWait.SpinUntil(() => lanes.Busy == 1, Patience);
        var waiters = new List<Task<bool>>();
        foreach (var (name, priority) in new (string, StagePriority)[]
        {
            ("seed 1 evaluation", new(PipelineStep.Evaluation, 1)), ("seed 1 PPO", new(PipelineStep.Ppo, 1)), ("seed 0 PPO", new(PipelineStep.Ppo, 0)),
            ("seed 2 reward model", new(PipelineStep.RewardModel, 2)), ("seed 2 instruction SFT", new(PipelineStep.RewardModel, 2)),
        })
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
        Assert.Equal(["seed 2 reward model", "seed 2 instruction SFT", "seed 0 PPO", "seed 1 PPO", "seed 1 evaluation"], order);
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
    public void Cpu_lanes_share_the_threads_among_the_stages_running_and_a_stage_alone_has_them_all()
    {
        using var lanes = BackendLanes.SharingCores(3, threads: 4);
        using var stages = new ConcurrentStages(TestContext.Current.CancellationToken);
        var threadsSeen = new List<int>[3];
        var (entered, leave) = (new SemaphoreSlim(0), new SemaphoreSlim[] { new(0), new(0), new(0) });
        Task<bool> Hold(int stage) => stages.Start(stop => lanes.Run(backend =>
        {
            var cpu = (CpuBackend)backend;
            threadsSeen[stage] = [cpu.Threads];
            entered.Release();
            leave[stage].Wait(stop);
            threadsSeen[stage].Add(cpu.Threads);
            return true;
        }, stop));
        int ThreadsOf(int stage) => threadsSeen[stage][0];

        var first = Hold(0);
        Assert.True(entered.Wait(Patience, TestContext.Current.CancellationToken));
        Assert.Equal(4, ThreadsOf(0));
        var second = Hold(1);
        Assert.True(entered.Wait(Patience, TestContext.Current.CancellationToken));
        var third = Hold(2);
        Assert.True(entered.Wait(Patience, TestContext.Current.CancellationToken));
        // Four threads over three stages: 2, 1, 1 (the first lane takes the spare); the third stage saw its share on entry.
        Assert.Equal(1, ThreadsOf(2));
        leave[1].Release();
        Assert.True(stages.Result(second));
        Assert.Equal(1, threadsSeen[1][1]);
        leave[2].Release();
        Assert.True(stages.Result(third));
        Assert.Equal(2, threadsSeen[2][1]);
        leave[0].Release();
        Assert.True(stages.Result(first));
        Assert.Equal(4, threadsSeen[0][1]);
        entered.Dispose();
        foreach (var semaphore in leave) semaphore.Dispose();
    }

    [Fact]
    public void A_lane_count_below_one_or_above_the_shared_threads_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BackendLanes.Create(0, () => new CpuBackend(1)));
        Assert.Contains("3 lanes need at least as many threads, got 2", Assert.Throws<ArgumentException>(() => BackendLanes.SharingCores(3, threads: 2)).Message);
    }
}
