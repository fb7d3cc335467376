using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// The layout check in front of flash attention: rows consecutive from a non-negative start, then only empty slots,
/// are accepted with each row's filled length; any other layout (left padding, a gap, a repeated or malformed
/// position) is refused, so attention falls back to the kernel over explicit positions.
/// </summary>
public abstract class PositionKernelTests(Func<IKernelDevice> device)
{
    [Theory]
    [InlineData(new[] { 0, 1, 2, 3, 0, 1, 2, 3 }, new[] { 4, 4 })]                 // training sequences
    [InlineData(new[] { 5, 6, 7, 8, 0, 1, 2, 3 }, new[] { 4, 4 })]                 // a chunk later in its sequence
    [InlineData(new[] { 0, 1, 2, -1, 0, -1, -1, -1 }, new[] { 3, 1 })]             // right padding
    [InlineData(new[] { -1, -1, -1, -1, 0, 1, 2, 3 }, new[] { 0, 4 })]             // a wholly empty row
    public void Right_padded_training_rows_are_accepted_with_their_lengths(int[] positions, int[] lengths)
    {
        var (accepted, found) = Check(positions, lengths.Length);
        Assert.True(accepted);
        Assert.Equal(lengths, found);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 2, 3, -1, 0, 1, 2 })]   // left padding
    [InlineData(new[] { 0, 1, 3, 4, 0, 1, 2, 3 })]    // a gap
    [InlineData(new[] { 0, 1, -1, 3, 0, 1, 2, 3 })]   // a filled slot after an empty one
    [InlineData(new[] { 0, 1, 2, 2, 0, 1, 2, 3 })]    // a repeated position
    [InlineData(new[] { 0, 1, 2, -2, 0, 1, 2, 3 })]   // a malformed empty slot
    [InlineData(new[] { 3, 2, 1, 0, 0, 1, 2, 3 })]    // a rotated cache ring's order
    public void Other_layouts_are_refused(int[] positions) => Assert.False(Check(positions, 2).Accepted);

    [Fact]
    public void A_long_ragged_batch_is_checked_across_many_blocks()
    {
        const int batch = 7, length = 1000;
        var lengths = new[] { 1000, 999, 0, 1, 513, 256, 700 };
        var positions = Enumerable.Range(0, batch * length).Select(i => i % length < lengths[i / length] ? i % length + 2 : -1).ToArray();
        var (accepted, found) = Check(positions, batch);
        Assert.True(accepted);
        Assert.Equal(lengths, found);
        positions[6 * length + 900] = 5;  // a filled slot in the last row's padding
        Assert.False(Check(positions, batch).Accepted);
    }

    private (bool Accepted, int[] Lengths) Check(int[] positions, int batch)
    {
        using var buffers = new KernelBuffers(device());
        using var kernels = new PositionKernels(device());
        // Stale lengths from an earlier check must not survive into this one.
        kernels.TryRightPaddedLengths(buffers.Ints(Enumerable.Repeat(0, batch).ToArray()), batch, 1, out _);
        bool accepted = kernels.TryRightPaddedLengths(buffers.Ints(positions), batch, positions.Length / batch, out ulong lengths);
        var found = new int[batch];
        if (accepted) device().Download<int>(lengths, found);
        return (accepted, found);
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedPositionKernelTests(KernelDevices devices) : PositionKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaPositionKernelTests(KernelDevices devices) : PositionKernelTests(() => devices.Cuda);
