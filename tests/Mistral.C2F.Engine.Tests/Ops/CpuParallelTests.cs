using Mistral.C2F.Engine.Backends.Cpu;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>The CPU backend's own workers: every item once, failures surface, nested calls do not deadlock.</summary>
[Trait("Backend", "cpu")]
public sealed class CpuParallelTests
{
    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 1)]
    [InlineData(2, 1000)]
    [InlineData(3, 7)]
    public void ForEach_runs_every_item_exactly_once(int threads, int count)
    {
        using var parallel = new CpuParallel(threads);
        for (int round = 0; round < 3; round++)  // the workers are reused from call to call
        {
            var runs = new int[count];
            parallel.ForEach(count, i => Interlocked.Increment(ref runs[i]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void ForRanges_covers_the_range_without_overlap()
    {
        using var parallel = new CpuParallel(2);
        var covered = new int[10_007];
        parallel.ForRanges(covered.Length, (start, end) => { for (long i = start; i < end; i++) Interlocked.Increment(ref covered[i]); });
        Assert.All(covered, c => Assert.Equal(1, c));
    }

    [Fact]
    public void An_exception_in_an_item_reaches_the_caller_and_the_workers_stay_usable()
    {
        using var parallel = new CpuParallel(2);
        var error = Assert.Throws<InvalidOperationException>(() =>
            parallel.ForEach(100, i => { if (i == 37) throw new InvalidOperationException("item 37"); }));
        Assert.Equal("item 37", error.Message);
        int done = 0;
        parallel.ForEach(50, _ => Interlocked.Increment(ref done));
        Assert.Equal(50, done);
    }

    [Fact]
    public void A_nested_call_runs_serially_instead_of_deadlocking()
    {
        using var parallel = new CpuParallel(2);
        int inner = 0;
        parallel.ForEach(8, _ => parallel.ForEach(10, _ => Interlocked.Increment(ref inner)));
        Assert.Equal(80, inner);
    }
}
