using Mistral.C2F.Engine.Tests.Ops.Contract;
using Mistral.C2F.Engine.Ilgpu.Tests.Support;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Ops;

/// <summary>The op checks on ILGPU's CPU accelerator (warp 32, groups up to 1024), which every machine has.</summary>
[Trait("Backend", "ilgpu")]
public sealed class IlgpuCpuForwardOpTests(IlgpuBackends backends) : DeviceForwardOpTests(() => backends.Cpu);

/// <inheritdoc cref="IlgpuCpuForwardOpTests"/>
[Trait("Backend", "ilgpu")]
public sealed class IlgpuCpuBackwardOpTests(IlgpuBackends backends) : DeviceBackwardOpTests(() => backends.Cpu);

/// <inheritdoc cref="IlgpuCpuForwardOpTests"/>
[Trait("Backend", "ilgpu")]
public sealed class IlgpuCpuNonFiniteOpTests(IlgpuBackends backends) : NonFiniteOpTests(() => backends.Cpu);

/// <inheritdoc cref="IlgpuCpuForwardOpTests"/>
[Trait("Backend", "ilgpu")]
public sealed class IlgpuCpuNonFiniteModelTests(IlgpuBackends backends) : NonFiniteModelTests(() => backends.Cpu);
