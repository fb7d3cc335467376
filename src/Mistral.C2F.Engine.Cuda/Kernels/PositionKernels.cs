namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>Checks of position tensors on the device (kernels/positions.cu).</summary>
public sealed class PositionKernels(IKernelDevice device) : IDisposable
{
    private readonly DeviceBuffer _flag = device.Allocate(sizeof(int));

    /// <summary>
    /// Whether every row of positions [batch, length] counts up by one from a non-negative start: the layout in
    /// which position order is index order (training sequences without padding). Waits for the answer.
    /// </summary>
    public bool AreConsecutive(ulong positions, int batch, int length)
    {
        long count = (long)batch * length;
        if (count == 0) return true;
        device.Fill32(_flag.Address, 1, 1);
        device.Launch("c2f_positions_consecutive", MemoryBoundLaunch.Flat(count, vectorWidth: 1),
            KernelArg.Pointer(positions), batch, length, KernelArg.Pointer(_flag.Address));
        var flag = new int[1];
        device.Download<int>(_flag.Address, flag);
        return flag[0] == 1;
    }

    public void Dispose() => _flag.Dispose();
}
