using Mistral.C2F.Engine.Cuda.Emulation;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>The device checks on the CPU emulator, plus what only the emulator promises.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedDeviceTests(KernelDevices devices) : KernelDeviceTests(() => devices.Emulator)
{
    [Fact]
    public void The_library_registers_the_self_test_kernels()
    {
        var emulator = Assert.IsType<EmulatedDevice>(devices.Emulator);
        Assert.Contains("c2f_selftest_axpy_f32", emulator.KernelNames);
        Assert.Contains("c2f_selftest_block_sum_f32", emulator.KernelNames);
    }

    [Fact]
    public void A_launch_with_the_wrong_number_of_arguments_is_refused()
    {
        var error = Assert.Throws<CudaException>(() =>
            devices.Emulator.Launch("c2f_selftest_axpy_f32", new LaunchShape(new Dim3(1), new Dim3(32)), 1f, 1));
        Assert.Equal("wrong argument count", error.Error);
        Assert.Contains("takes 4 parameters, the launch passes 2", error.Message);
    }

    /// <summary>
    /// Each argument against the kernel's C++ parameter (axpy takes float*, const float*, float, int): swapped int and
    /// float, a count where a pointer goes, an unsigned where an int is declared, a long where an int is: all refused,
    /// naming the parameter, before anything runs.
    /// </summary>
    [Theory]
    [InlineData("swap", 2, "parameter 2 is declared float, the launch passes int")]
    [InlineData("count for pointer", 1, "parameter 1 is declared a pointer, the launch passes int")]
    [InlineData("unsigned", 3, "parameter 3 is declared int, the launch passes unsigned int")]
    [InlineData("long", 3, "parameter 3 is declared int, the launch passes long long")]
    public void A_launch_whose_argument_types_differ_from_the_kernel_s_is_refused(string mistake, int parameter, string message)
    {
        using var buffer = devices.Emulator.Allocate(64 * sizeof(float));
        var (y, x) = (KernelArg.Pointer(buffer.Address), KernelArg.Pointer(buffer.At(32 * sizeof(float))));
        KernelArg[] args = mistake switch
        {
            "swap" => [y, x, 32, 2f],
            "count for pointer" => [y, 32, 2f, 32],
            "unsigned" => [y, x, 2f, 32u],
            _ => [y, x, 2f, 32L],
        };
        var error = Assert.Throws<CudaException>(() => devices.Emulator.Launch("c2f_selftest_axpy_f32", new LaunchShape(new Dim3(1), new Dim3(32)), args));
        Assert.Equal("wrong argument type", error.Error);
        Assert.Contains(message, error.Message);
        Assert.Contains($"parameter {parameter} ", error.Message);
    }

    [Fact]
    public void Host_copies_past_the_end_of_an_allocation_are_refused()
    {
        // Device memory is host memory here: an unchecked copy would corrupt the test process instead of failing.
        using var buffer = devices.Emulator.Allocate(4 * sizeof(float));
        Assert.Throws<ArgumentOutOfRangeException>(() => devices.Emulator.Upload<float>(new float[5], buffer.Address));
        Assert.Throws<ArgumentOutOfRangeException>(() => devices.Emulator.Download(buffer.At(sizeof(float)), new float[4].AsSpan()));
        // One word just past the end: an address far away could fall inside another test's live allocation.
        Assert.Throws<ArgumentOutOfRangeException>(() => devices.Emulator.Fill32(buffer.At(4 * sizeof(float)), 0, 1));
    }
}
