using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Ops.Contract;

namespace Mistral.C2F.Engine.Tests.Ops;

[Trait("Backend", "cpu")]
public sealed class CpuNonFiniteOpTests() : NonFiniteOpTests(() => new CpuBackend(2));

[Trait("Backend", "cpu")]
public sealed class CpuNonFiniteModelTests() : NonFiniteModelTests(() => new CpuBackend(2));
