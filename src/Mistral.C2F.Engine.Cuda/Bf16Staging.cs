using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// bf16 copies of float32 tensors for the tensor-core kernels: one growing device buffer per slot, reused call
/// after call (every launch is ordered on the device's one stream, so a slot is free once its kernel is queued
/// behind the next conversion).
/// </summary>
internal sealed class Bf16Staging(IKernelDevice device, ConversionKernels conversion) : IDisposable
{
    public const int Slots = 5;

    private readonly KernelScratch[] _slots = Enumerable.Range(0, Slots).Select(_ => new KernelScratch(device)).ToArray();

    /// <summary>Slot <paramref name="slot"/> holding <paramref name="count"/> float32 values of <paramref name="source"/> rounded to bf16.</summary>
    public ulong Rounded(int slot, ulong source, long count)
    {
        ulong copy = Reserved(slot, count);
        conversion.ToBf16(source, copy, count);
        return copy;
    }

    /// <summary>Room for <paramref name="count"/> bf16 values in slot <paramref name="slot"/>, for a kernel to write.</summary>
    public ulong Reserved(int slot, long count) => _slots[slot].Get(count * sizeof(ushort));

    public void Dispose()
    {
        foreach (var slot in _slots) slot.Dispose();
    }
}
