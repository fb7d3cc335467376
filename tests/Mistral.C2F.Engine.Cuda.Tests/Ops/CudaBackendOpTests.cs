using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Ops.Contract;

namespace Mistral.C2F.Engine.Cuda.Tests.Ops;

/// <summary>The op contract on the hand-written kernels, run by the CPU emulator.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedCudaForwardOpTests(KernelDevices devices) : DeviceForwardOpTests(() => devices.EmulatedBackend);

/// <inheritdoc cref="EmulatedCudaForwardOpTests"/>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedCudaBackwardOpTests(KernelDevices devices) : DeviceBackwardOpTests(() => devices.EmulatedBackend);

/// <summary>One training step of the test model on the emulated kernels against the CPU backend.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedCudaTrainingStepTests(KernelDevices devices) : DeviceTrainingStepChecks(() => devices.EmulatedBackend);

/// <summary>The op contract on the hand-written kernels on a GPU; skips, with the reason, without one.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaForwardOpTests(KernelDevices devices) : DeviceForwardOpTests(() => devices.CudaBackend);

/// <inheritdoc cref="CudaForwardOpTests"/>
[Trait("Backend", "cuda")]
public sealed class CudaBackwardOpTests(KernelDevices devices) : DeviceBackwardOpTests(() => devices.CudaBackend);

/// <inheritdoc cref="EmulatedCudaTrainingStepTests"/>
[Trait("Backend", "cuda")]
public sealed class CudaTrainingStepTests(KernelDevices devices) : DeviceTrainingStepChecks(() => devices.CudaBackend);
