using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>A bf16 copy of one view of a float32 storage (its element offset and count), and whether it holds the view's current values.</summary>
internal sealed class Bf16Copy(DeviceBuffer buffer, long elementOffset, long count) : IDisposable
{
    public ulong Address => buffer.Address;

    public long ElementOffset => elementOffset;

    public long Count => count;

    /// <summary>Whether the copy equals the view rounded to bf16; set by whoever last wrote both.</summary>
    public bool Current { get; private set; }

    public bool Covers(Tensor t) => t.ElementOffset == elementOffset && t.ElementCount == count;

    public void MarkCurrent() => Current = true;

    public void MarkStale() => Current = false;

    public void Dispose() => buffer.Dispose();
}
