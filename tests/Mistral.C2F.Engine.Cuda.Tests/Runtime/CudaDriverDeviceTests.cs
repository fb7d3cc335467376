using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Cuda.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>The device checks on a GPU through the CUDA driver, plus what only the driver does; each skips, with the reason, where there is no GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaDriverDeviceTests(KernelDevices devices) : KernelDeviceTests(() => devices.Cuda)
{
    [Fact]
    public void Creating_the_device_explains_why_not_instead_of_throwing()
    {
        using var device = CudaDriverDevice.TryCreate(out var reason);
        if (device is null) Assert.False(string.IsNullOrWhiteSpace(reason));
        else Assert.Contains("compute capability", device.Name);
    }

    [Fact]
    public void Asking_for_more_memory_than_the_device_has_says_how_much_is_free()
    {
        var error = Assert.Throws<CudaException>(() => devices.Cuda.Allocate(1L << 50));
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", error.Error);
        Assert.Contains("bytes free", error.Message);
    }

    [Fact]
    public void The_device_timer_measures_launches_on_the_stream()
    {
        var device = Assert.IsType<CudaDriverDevice>(devices.Cuda);
        const int n = 1 << 24;
        using var xs = device.Allocate(n * sizeof(float));
        using var ys = device.Allocate(n * sizeof(float));
        device.Fill32(xs.Address, 0x3F800000, n);
        device.Fill32(ys.Address, 0x3F800000, n);
        using var timer = device.CreateTimer();

        timer.Start();
        for (var i = 0; i < 10; i++)
            device.Launch("c2f_selftest_axpy_f32", new LaunchShape(new Dim3(1024), new Dim3(256)),
                KernelArg.Pointer(ys.Address), KernelArg.Pointer(xs.Address), 1f, n);
        timer.Stop();

        Assert.InRange(timer.ElapsedMilliseconds, 1e-3, 10_000);
        var first = new float[1];
        device.Download(ys.Address, first.AsSpan());
        Assert.Equal(11f, first[0]);
    }
}
