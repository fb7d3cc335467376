namespace Mistral.C2F.Cli;

/// <summary>
/// Reports on the calling thread, so a progress bar sees every update in order
/// (<see cref="Progress{T}"/> would post them to the thread pool).
/// </summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
