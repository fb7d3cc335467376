using Mistral.C2F.Engine.Tests.Ops.Contract;
using Mistral.C2F.Engine.Ilgpu.Tests.Support;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Gradients;

/// <summary>The training step on ILGPU's CPU accelerator.</summary>
[Trait("Backend", "ilgpu")]
public sealed class IlgpuCpuTrainingStepTests(IlgpuBackends backends) : DeviceTrainingStepChecks(() => backends.Cpu);

/// <summary>The training step on ILGPU's CUDA accelerator; skips, with the reason, where ILGPU finds no CUDA GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class IlgpuCudaTrainingStepTests(IlgpuBackends backends) : DeviceTrainingStepChecks(() => backends.Cuda);
