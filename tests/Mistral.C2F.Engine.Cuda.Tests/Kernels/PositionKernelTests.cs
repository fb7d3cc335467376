using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// The row lengths flash attention reads for positions in the sequences layout (rows consecutive from a non-negative start,
/// then only empty slots), written over poison: full rows, a chunk later in its sequence, right padding, a wholly empty row.
/// </summary>
public abstract class PositionKernelTests(Func<IKernelDevice> device)
{
    [Theory]
    [InlineData(new[] { 0, 1, 2, 3, 0, 1, 2, 3 }, new[] { 4, 4 })]                 // training sequences
    [InlineData(new[] { 5, 6, 7, 8, 0, 1, 2, 3 }, new[] { 4, 4 })]                 // a chunk later in its sequence
    [InlineData(new[] { 0, 1, 2, -1, 0, -1, -1, -1 }, new[] { 3, 1 })]             // right padding
    [InlineData(new[] { -1, -1, -1, -1, 0, 1, 2, 3 }, new[] { 0, 4 })]             // a wholly empty row
    public void Right_padded_rows_give_their_lengths(int[] positions, int[] lengths) =>
        Assert.Equal(lengths, RowLengths(positions, lengths.Length));

    [Fact]
    public void A_long_ragged_batch_is_measured_across_many_blocks()
    {
        const int batch = 7, length = 1000;
        var lengths = new[] { 1000, 999, 0, 1, 513, 256, 700 };
        var positions = Enumerable.Range(0, batch * length).Select(i => i % length < lengths[i / length] ? i % length + 2 : -1).ToArray();
        Assert.Equal(lengths, RowLengths(positions, batch));
    }

    private int[] RowLengths(int[] positions, int batch)
    {
        using var buffers = new KernelBuffers(device());
        ulong lengths = buffers.Poisoned(batch);
        new PositionKernels(device()).RowLengths(buffers.Ints(positions), batch, positions.Length / batch, lengths);
        var found = new int[batch];
        device().Download<int>(lengths, found);
        return found;
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedPositionKernelTests(KernelDevices devices) : PositionKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaPositionKernelTests(KernelDevices devices) : PositionKernelTests(() => devices.Cuda);
