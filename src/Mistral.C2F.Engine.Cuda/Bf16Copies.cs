using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// The bf16 operands of the tensor-core kernels, kept with each tensor's storage rather than rounded on every call: a
/// tensor is rounded once and read by every product and attention launch after it until something writes it. Weights
/// are rounded inside the multi-tensor AdamW launch that updates them (so once per optimizer step, and never for a
/// model that only generates), and an activation once however many products read it, forward and backward. The price
/// is the copies' memory: half of each float32 tensor a bf16 kernel reads, for as long as the tensor lives.
/// </summary>
internal sealed class Bf16Copies(CachingAllocator allocator, ConversionKernels conversion)
{
    /// <summary>The address of <paramref name="t"/>'s bf16 copy, rounded first if stale.</summary>
    public ulong Current(Tensor t)
    {
        var copy = CopyOf(t);
        if (!copy.Current)
        {
            conversion.ToBf16(CudaStorage.Address(t), copy.Address, t.ElementCount);
            copy.MarkCurrent();
        }
        return copy.Address;
    }

    /// <summary>
    /// The address of <paramref name="t"/>'s bf16 copy, rounded first if stale, when a bf16 kernel has read one before;
    /// else 0 (a norm weight or an embedding table only float32 kernels read gets no copy).
    /// </summary>
    public ulong CurrentIfKept(Tensor t) => CudaStorage.Of(t).Bf16 is { } copy && copy.Covers(t) ? Current(t) : 0;

    /// <summary>
    /// The address of <paramref name="t"/>'s bf16 copy for a kernel that writes it along with the float32 values; current
    /// from here on, so take it after <see cref="CudaStorage.WriteAddress"/> of the same tensor.
    /// </summary>
    public ulong WrittenWith(Tensor t)
    {
        var copy = CopyOf(t);
        copy.MarkCurrent();
        return copy.Address;
    }

    private Bf16Copy CopyOf(Tensor t)
    {
        if (t.DType != DType.F32) throw new ArgumentException($"a bf16 copy is of a float32 tensor, not {t.DType} {t.Shape}");
        var storage = CudaStorage.Of(t);
        if (storage.Bf16 is { } copy && copy.Covers(t)) return copy;
        storage.Bf16?.Dispose();
        return storage.Bf16 = new Bf16Copy(allocator.Allocate(Math.Max(1, t.ElementCount) * sizeof(ushort)), t.ElementOffset, t.ElementCount);
    }
}
