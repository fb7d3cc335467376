using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Ops.Contract;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>The non-finite checks on the float32 CPU backend, one shared instance for the process (the checks do not dispose it).</summary>
internal static class SharedCpuBackend
{
    public static CpuBackend Instance { get; } = new(2);
}

[Trait("Backend", "cpu")]
public sealed class CpuNonFiniteOpTests() : NonFiniteOpTests(() => SharedCpuBackend.Instance);

[Trait("Backend", "cpu")]
public sealed class CpuNonFiniteModelTests() : NonFiniteModelTests(() => SharedCpuBackend.Instance);
