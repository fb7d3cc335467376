using System.Runtime.ExceptionServices;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// Work started side by side, each on a thread of its own (not the pool's: a stage waiting for a lane or for another stage
/// must never starve one that runs). The first failure cancels the rest and is the exception every later
/// <see cref="Result{T}"/> rethrows; disposing waits for every started task, so none outlives its owner.
/// </summary>
internal sealed class ConcurrentStages : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly List<Task> _started = [];
    private Exception? _failure;

    public ConcurrentStages(CancellationToken cancellation) => _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);

    /// <summary>Cancelled by the caller's token or by the first failure.</summary>
    public CancellationToken Cancellation => _stop.Token;

    public Task<T> Start<T>(Func<CancellationToken, T> work)
    {
        var token = _stop.Token;
        var task = Task.Factory.StartNew(() =>
        {
            try
            {
                return work(token);
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
                _stop.Cancel();
                throw;
            }
        }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        lock (_started) _started.Add(task);
        return task;
    }

    /// <summary>The task's result; the first failure of any stage when this one was cancelled because of it.</summary>
    public T Result<T>(Task<T> task)
    {
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _failure) is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
            throw;
        }
    }

    public void Dispose()
    {
        Task[] started;
        lock (_started) started = [.. _started];
        if (!started.All(t => t.IsCompleted)) _stop.Cancel();
        try
        {
            Task.WaitAll(started);
        }
        catch (AggregateException)
        {
            // Observed here so that none is reported as unobserved; the first failure reached the caller through Result.
        }
        _stop.Dispose();
    }
}
