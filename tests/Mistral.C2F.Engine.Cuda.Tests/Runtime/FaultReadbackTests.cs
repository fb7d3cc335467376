using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>
/// A download brings the kernels' fault record with it: a small result and the record in one copy (one wait), a large one
/// with a second copy for the record. Either way a recorded fault is thrown by the next download, naming the index, once;
/// the download after it returns the data intact.
/// </summary>
public abstract class FaultReadbackTests(Func<IKernelDevice> device)
{
    [Theory]
    [InlineData(3, 1)]            // gathered with the record
    [InlineData(1_100_000, 2)]    // past the 4 MiB bound of the gathered copy
    public void A_fault_surfaces_at_the_next_download_once_and_the_data_comes_back_intact(int elements, int waits)
    {
        using var backend = new CudaBackend(device(), ownsDevice: false);
        var values = Numerics.RandomFloats(new Random(elements), elements);
        using var unrelated = backend.FromFloats(values, elements);
        using var table = backend.FromFloats(new float[8], 4, 2);
        using var output = backend.Allocate(1, 2);
        using var badIndex = backend.FromInts([7], 1);
        backend.GatherRows(table, badIndex, output);

        var before = backend.Counts;
        var error = Assert.Throws<IndexOutOfRangeException>(() => backend.ToFloats(unrelated));
        Assert.Contains("7", error.Message);
        Assert.Equal(waits, (backend.Counts - before).HostSyncs);
        Assert.Equal(values, backend.ToFloats(unrelated));
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedFaultReadbackTests(KernelDevices devices) : FaultReadbackTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaFaultReadbackTests(KernelDevices devices) : FaultReadbackTests(() => devices.Cuda);
