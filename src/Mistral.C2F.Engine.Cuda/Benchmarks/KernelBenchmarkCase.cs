using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// One kernel benchmark. <see cref="Kind"/> and <see cref="PeerShape"/> are what tools/gpu-check/torch_peers.py
/// reads from the plan to time the PyTorch equivalent (kinds it does not know are left without a peer).
/// <see cref="PrepareOnBackend"/>, when the op contract has the same op in float32, sets it up on any
/// <see cref="Backend"/> (ILGPU's, for the comparison column); null otherwise.
/// </summary>
public sealed record KernelBenchmarkCase(
    string Name,
    string Kind,
    string Shape,
    IReadOnlyDictionary<string, object> PeerShape,
    KernelWork Work,
    Func<IKernelDevice, BenchmarkLaunch> Prepare,
    Func<Backend, BenchmarkLaunch>? PrepareOnBackend = null);
