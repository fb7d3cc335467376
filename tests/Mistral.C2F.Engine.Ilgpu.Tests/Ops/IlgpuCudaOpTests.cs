using Mistral.C2F.Engine.Tests.Ops.Contract;
using Mistral.C2F.Engine.Ilgpu.Tests.Support;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Ops;

/// <summary>The same op checks on ILGPU's CUDA accelerator; each test skips, with the reason, where ILGPU finds no CUDA GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class IlgpuCudaForwardOpTests(IlgpuBackends backends) : DeviceForwardOpTests(() => backends.Cuda);

/// <inheritdoc cref="IlgpuCudaForwardOpTests"/>
[Trait("Backend", "cuda")]
public sealed class IlgpuCudaBackwardOpTests(IlgpuBackends backends) : DeviceBackwardOpTests(() => backends.Cuda);

/// <inheritdoc cref="IlgpuCudaForwardOpTests"/>
[Trait("Backend", "cuda")]
public sealed class IlgpuCudaNonFiniteOpTests(IlgpuBackends backends) : NonFiniteOpTests(() => backends.Cuda);

/// <inheritdoc cref="IlgpuCudaForwardOpTests"/>
[Trait("Backend", "cuda")]
public sealed class IlgpuCudaNonFiniteModelTests(IlgpuBackends backends) : NonFiniteModelTests(() => backends.Cuda);
