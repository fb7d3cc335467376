namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>Checks of position tensors on the device (kernels/positions.cu).</summary>
public sealed class PositionKernels(IKernelDevice device) : IDisposable
{
    private readonly DeviceBuffer _flag = device.Allocate(sizeof(int));
    private readonly KernelScratch _lengths = new(device);

    /// <summary>
    /// Whether every row of positions [batch, length] counts up by one from a non-negative start over its first
    /// slots and has only empty slots (-1) after them: training sequences, right-padded or not, in which position
    /// order is index order. If so, <paramref name="lengths"/> is a device array of each row's filled slots, valid
    /// until the next call. Waits for the answer.
    /// </summary>
    public bool TryRightPaddedLengths(ulong positions, int batch, int length, out ulong lengths)
    {
        lengths = _lengths.Get((long)batch * sizeof(int));
        long count = (long)batch * length;
        if (count == 0) return true;
        device.Fill32(lengths, 0, batch);
        device.Fill32(_flag.Address, 1, 1);
        device.Launch("c2f_positions_right_padded", MemoryBoundLaunch.Flat(count, vectorWidth: 1),
            KernelArg.Pointer(positions), batch, length, KernelArg.Pointer(lengths), KernelArg.Pointer(_flag.Address));
        var flag = new int[1];
        device.Download<int>(_flag.Address, flag);
        return flag[0] == 1;
    }

    public void Dispose()
    {
        _flag.Dispose();
        _lengths.Dispose();
    }
}
