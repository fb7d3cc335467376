using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Cuda.Emulation;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>The embedded PTX: which architecture a device gets, and that the GPU and the emulator have the same kernels.</summary>
[Trait("Backend", "ptx")]
public sealed class PtxLibraryTests(KernelDevices devices)
{
    private static PtxLibrary Embedded
    {
        get
        {
            Assert.SkipWhen(PtxLibrary.Embedded.Architectures.Count == 0, "built without nvcc: no PTX embedded");
            return PtxLibrary.Embedded;
        }
    }

    [Fact]
    public void PTX_is_embedded_for_sm_80_and_sm_90() => Assert.Equal([80, 90], Embedded.Architectures);

    [Theory]
    [InlineData(80, 80)]
    [InlineData(86, 80)]
    [InlineData(89, 80)]
    [InlineData(90, 90)]
    [InlineData(100, 90)]
    [InlineData(75, null)]
    public void A_device_gets_the_newest_architecture_it_runs(int computeCapability, int? expected) =>
        Assert.Equal(expected, Embedded.BestArchitecture(computeCapability));

    [Theory]
    [InlineData(80)]
    [InlineData(90)]
    public void The_PTX_defines_exactly_the_kernels_the_emulator_registered(int architecture)
    {
        // A kernel without C2F_REGISTER_KERNEL would run on the GPU and be missing in every emulator test.
        var emulator = Assert.IsType<EmulatedDevice>(devices.Emulator);
        Assert.Equal(emulator.KernelNames.Order(), Embedded.KernelModules(architecture).Keys.Order());
    }
}
