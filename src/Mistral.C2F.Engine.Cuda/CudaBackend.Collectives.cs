using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>What a collective library that works on the backend's buffers (NCCL) needs of it: the GPU, addresses, a wait.</summary>
public sealed partial class CudaBackend
{
    /// <summary>The GPU the kernels launch on, whose stream a collective joins; null on the CPU emulator.</summary>
    internal CudaDriverDevice? Gpu => _device.Inner as CudaDriverDevice;

    /// <summary>The device address of a float32 tensor of this backend that a collective sums in place (its bf16 copy goes stale).</summary>
    internal ulong CollectiveAddress(Tensor t, string collective)
    {
        if (!ReferenceEquals(t.Backend, this))
            throw new ArgumentException($"{collective}: tensor {t.Shape} belongs to backend '{t.Backend.Name}', not '{Name}'");
        if (t.DType != DType.F32) throw new ArgumentException($"{collective}: tensor {t.Shape} is {t.DType}; collectives sum float32 tensors");
        return W(t);
    }

    /// <summary>Waits for everything queued on the device's stream, kernels and collectives (counted as a host sync).</summary>
    internal void WaitForDevice() => _device.Synchronize();
}
