using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>The device checks on a GPU through the CUDA driver; each skips, with the reason, where there is none.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaDriverDeviceTests(KernelDevices devices) : KernelDeviceTests(() => devices.Cuda);
