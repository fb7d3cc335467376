using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// The bf16 operands of the tensor-core kernels, kept with each tensor's storage rather than rounded on every call: a
/// tensor is rounded once and read by every product and attention launch after it until something writes it. Weights
/// are rounded inside the multi-tensor AdamW launch that updates them (so once per optimizer step, and never for a
/// model that only generates). An activation that a kernel writes for bf16 kernels to read (attention's output, a
/// norm's or SwiGLU's before a product) is written as bf16 alone: no rounding launch, and no float32 memory unless a
/// float32 kernel or the host reads it, which widens it once (<see cref="Widened"/>).
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
    /// The address of <paramref name="t"/>'s bf16 copy for a kernel that writes the values as bf16 only: from here on
    /// the copy is current and the float32 values stale, until a float32 read widens them.
    /// </summary>
    public ulong WrittenAlone(Tensor t)
    {
        var copy = CopyOf(t);
        copy.MarkCurrent();
        CudaStorage.Of(t).Float32Stale = true;
        return copy.Address;
    }

    /// <summary>
    /// <paramref name="t"/>, readable as float32: a storage written as bf16 alone is widened into its float32 buffer
    /// first (exact), once; the copy stays current.
    /// </summary>
    public Tensor Widened(Tensor t)
    {
        Widen(CudaStorage.Of(t));
        return t;
    }

    /// <summary>
    /// <paramref name="t"/>, for a launch that writes every element of it without reading them: a storage whose bf16-alone
    /// values all lie in <paramref name="t"/> needs no widening, as they are all about to be replaced.
    /// </summary>
    public Tensor Overwritten(Tensor t)
    {
        var storage = CudaStorage.Of(t);
        if (storage is { Float32Stale: true, Bf16: { } copy } && copy.ElementOffset >= t.ElementOffset &&
            copy.ElementOffset + copy.Count <= t.ElementOffset + t.ElementCount)
            storage.Float32Stale = false;
        else Widen(storage);
        return t;
    }

    private void Widen(CudaStorage storage)
    {
        if (!storage.Float32Stale) return;
        var copy = storage.Bf16!;
        conversion.ToF32(copy.Address, storage.Float32Address(copy.ElementOffset), copy.Count);
        storage.Float32Stale = false;
    }

    private Bf16Copy CopyOf(Tensor t)
    {
        if (t.DType != DType.F32) throw new ArgumentException($"a bf16 copy is of a float32 tensor, not {t.DType} {t.Shape}");
        var storage = CudaStorage.Of(t);
        if (storage.Bf16 is { } copy && copy.Covers(t)) return copy;
        // A copy of another view may hold that view's only current values: widen them before it goes.
        Widen(storage);
        storage.Bf16?.Dispose();
        return storage.Bf16 = new Bf16Copy(allocator.Allocate(Math.Max(1, t.ElementCount) * sizeof(ushort)), t.ElementOffset, t.ElementCount);
    }
}
