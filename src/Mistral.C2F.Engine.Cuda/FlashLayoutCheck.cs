using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// Whether a position tensor is flash attention's layout, asked of the device once per tensor: the answer and the
/// rows' lengths (on the device) are kept for that storage until an integer tensor is written again, the only way
/// positions change (uploads and zeroing; no op writes integers). Every layer's attention, forward and backward,
/// reads the same positions, so a training step waits for the check once instead of twice per layer.
/// </summary>
internal sealed class FlashLayoutCheck(PositionKernels kernels)
{
    private readonly record struct Answer(object Storage, long Offset, int Batch, int Length, bool IsFlashLayout, ulong Lengths);

    private Answer? _last;

    /// <summary>The device's answer for positions [batch, length]; <paramref name="lengths"/> stays valid while it is the last one asked.</summary>
    public bool IsFlashLayout(Tensor positions, int batch, int length, out ulong lengths)
    {
        if (_last is not { } last || !ReferenceEquals(last.Storage, positions.Storage) || last.Offset != positions.ElementOffset
            || last.Batch != batch || last.Length != length)
        {
            bool isFlashLayout = kernels.TryRightPaddedLengths(CudaStorage.Address(positions), batch, length, out ulong found);
            last = new Answer(positions.Storage, positions.ElementOffset, batch, length, isFlashLayout, found);
            _last = last;
        }
        lengths = last.Lengths;
        return last.IsFlashLayout;
    }

    /// <summary>An integer tensor was written: positions may have changed.</summary>
    public void Forget() => _last = null;
}
