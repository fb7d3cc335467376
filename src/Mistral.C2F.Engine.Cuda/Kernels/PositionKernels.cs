namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>What flash attention needs of a position tensor, computed on the device (kernels/positions.cu).</summary>
public sealed class PositionKernels(IKernelDevice device)
{
    /// <summary>
    /// Writes each row's filled length into <paramref name="lengths"/> (an int per row) for positions [batch, length] in the
    /// sequences layout (<see cref="Backends.AttentionLayout.Sequences"/>): right-padded rows of consecutive positions. No wait.
    /// </summary>
    public void RowLengths(ulong positions, int batch, int length, ulong lengths)
    {
        if (batch == 0) return;
        device.Fill32(lengths, 0, batch);
        long count = (long)batch * length;
        if (count == 0) return;
        device.Launch("c2f_positions_row_lengths", MemoryBoundLaunch.Flat(count, vectorWidth: 1),
            KernelArg.Pointer(positions), batch, length, KernelArg.Pointer(lengths));
    }
}
