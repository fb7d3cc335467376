namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>A prepared benchmark case: the launch to time, and the buffers it owns until disposed.</summary>
public sealed class BenchmarkLaunch(Action launch, IDisposable resources) : IDisposable
{
    public void Launch() => launch();

    public void Dispose() => resources.Dispose();
}
