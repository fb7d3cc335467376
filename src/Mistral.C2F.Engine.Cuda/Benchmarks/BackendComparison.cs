using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// Another backend timed on the cases the op contract shares (float32 ops), e.g. ILGPU on the same GPU, with
/// what waits for its queued work. Either a backend, or the reason there is none (shown in the report).
/// </summary>
public sealed record BackendComparison(string Name, Backend? Backend, Action Synchronize, string? Unavailable = null)
{
    public static BackendComparison None(string name, string reason) => new(name, null, () => { }, reason);
}
