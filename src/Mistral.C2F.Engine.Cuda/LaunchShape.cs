namespace Mistral.C2F.Engine.Cuda;

/// <summary>How a kernel is launched: the grid of blocks, the threads of each block, and the bytes of dynamic shared memory.</summary>
public readonly record struct LaunchShape(Dim3 Grid, Dim3 Block, int DynamicSharedBytes = 0)
{
    /// <summary>The most threads a block may have on every GPU we target (and in the emulator).</summary>
    public const int MaxThreadsPerBlock = 1024;

    /// <summary>
    /// Rejects shapes no device can run, before they reach the driver or the emulator, so the message says
    /// which kernel and which dimension is wrong rather than the driver's bare CUDA_ERROR_INVALID_VALUE.
    /// </summary>
    internal void Validate(string kernel)
    {
        if (Grid.Volume == 0)
            throw new CudaException(kernel, "invalid launch shape", $"the grid {Grid} has no blocks");
        if (Block.Volume is 0 or > MaxThreadsPerBlock)
            throw new CudaException(kernel, "invalid launch shape",
                $"the block {Block} has {Block.Volume} threads; a block needs 1 to {MaxThreadsPerBlock}");
        if (DynamicSharedBytes < 0)
            throw new CudaException(kernel, "invalid launch shape", $"{DynamicSharedBytes} bytes of dynamic shared memory");
    }

    public override string ToString() => $"grid {Grid}, block {Block}, {DynamicSharedBytes} B dynamic shared";
}
