using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>The block pool under the CUDA backend's tensors: size classes, reuse, and every block freed at the end.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class CachingAllocatorTests(KernelDevices devices)
{
    [Theory]
    [InlineData(0, 512)]
    [InlineData(1, 512)]
    [InlineData(513, 1024)]
    [InlineData(65536, 65536)]
    [InlineData(65537, 81920)]
    [InlineData(131072, 131072)]
    [InlineData(131073, 163840)]
    [InlineData(1_000_000, 1_048_576)]
    public void Sizes_round_to_512_bytes_then_to_quarters_of_a_power_of_two(long bytes, long served) =>
        Assert.Equal(served, DeviceBlockPool<DeviceBuffer>.SizeClass(bytes));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_freed_block_serves_the_next_request_of_its_class_and_disposal_frees_every_block(bool exactSizes)
    {
        using var counting = new CountingDevice(devices.Emulator, ownsInner: false);
        var allocator = new CachingAllocator(counting, exactSizes);
        var first = allocator.Allocate(100_000);
        var address = first.Address;
        first.Dispose();
        Assert.Equal(exactSizes ? 100_000 : DeviceBlockPool<DeviceBuffer>.SizeClass(100_000), allocator.CachedBytes);

        using (var again = allocator.Allocate(exactSizes ? 100_000 : 100_500))
        {
            Assert.Equal(address, again.Address);
            Assert.Equal(exactSizes ? 100_000 : 100_500, again.Bytes);
        }
        using (var other = allocator.Allocate(300_000)) Assert.NotEqual(address, other.Address);
        Assert.Equal(2, counting.Counts.Allocations);

        var outliving = allocator.Allocate(4096);
        allocator.Dispose();
        Assert.Equal(2, counting.Counts.Frees);
        outliving.Dispose();  // a tensor freed after its backend goes straight back to the device
        Assert.Equal(counting.Counts.Allocations, counting.Counts.Frees);
    }
}
