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

/// <summary>NaN and infinity propagate through the emulated kernels as IEEE arithmetic does, and only where the op reads them.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedCudaNonFiniteOpTests(KernelDevices devices) : NonFiniteOpTests(() => devices.EmulatedBackend);

/// <inheritdoc cref="EmulatedCudaNonFiniteOpTests"/>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedCudaNonFiniteModelTests(KernelDevices devices) : NonFiniteModelTests(() => devices.EmulatedBackend);

/// <summary>
/// The same on bf16 tensor-core products and flash attention (the head dim 64 cases and the model's training
/// sequences): only the non-finite masks are compared, so bf16 rounding does not matter.
/// </summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedBf16NonFiniteOpTests(KernelDevices devices) : NonFiniteOpTests(() => devices.EmulatedBf16Backend);

/// <inheritdoc cref="EmulatedBf16NonFiniteOpTests"/>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedBf16NonFiniteModelTests(KernelDevices devices) : NonFiniteModelTests(() => devices.EmulatedBf16Backend);

/// <inheritdoc cref="EmulatedCudaNonFiniteOpTests"/>
[Trait("Backend", "cuda")]
public sealed class CudaNonFiniteOpTests(KernelDevices devices) : NonFiniteOpTests(() => devices.CudaBackend);

/// <inheritdoc cref="EmulatedCudaNonFiniteOpTests"/>
[Trait("Backend", "cuda")]
public sealed class CudaNonFiniteModelTests(KernelDevices devices) : NonFiniteModelTests(() => devices.CudaBackend);

/// <inheritdoc cref="EmulatedBf16NonFiniteOpTests"/>
[Trait("Backend", "cuda")]
public sealed class CudaBf16NonFiniteOpTests(KernelDevices devices) : NonFiniteOpTests(() => devices.CudaBf16Backend);

/// <inheritdoc cref="EmulatedBf16NonFiniteOpTests"/>
[Trait("Backend", "cuda")]
public sealed class CudaBf16NonFiniteModelTests(KernelDevices devices) : NonFiniteModelTests(() => devices.CudaBf16Backend);
