using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>
/// What every <see cref="IKernelDevice"/> must do, checked through the self-test kernels of kernels/selftest.cu:
/// exact copies, fills, argument passing, indexing over grids and blocks, dynamic shared memory, barriers and
/// shuffles, and launch failures that name the kernel.
/// </summary>
public abstract class KernelDeviceTests(Func<IKernelDevice> device)
{
    private const uint NaNPoison = 0x7FC00000;
    private readonly Random _random = new();

    private IKernelDevice Device => device();

    [Fact]
    public void Uploads_and_downloads_round_trip_bit_exactly_at_any_offset()
    {
        float[] floats = [1.5f, -0f, float.MaxValue, float.Epsilon, float.NaN, -3.25f, float.NegativeInfinity];
        using var buffer = Device.Allocate(64 * sizeof(float));
        var offset = buffer.At(9 * sizeof(float));
        Device.Upload<float>(floats, offset);
        var back = new float[floats.Length];
        Device.Download(offset, back.AsSpan());
        Assert.Equal(floats.Select(BitConverter.SingleToUInt32Bits), back.Select(BitConverter.SingleToUInt32Bits));

        ushort[] halves = [0, 1, 0x7F80, 0xFFFF, 0x3F80];
        Device.Upload<ushort>(halves, buffer.At(2));
        var halvesBack = new ushort[halves.Length];
        Device.Download(buffer.At(2), halvesBack.AsSpan());
        Assert.Equal(halves, halvesBack);
    }

    [Fact]
    public void Fill32_sets_exactly_the_words_asked()
    {
        using var buffer = Device.Allocate(10 * sizeof(uint));
        Device.Upload<uint>(Enumerable.Range(0, 10).Select(i => (uint)i).ToArray(), buffer.Address);
        Device.Fill32(buffer.At(3 * sizeof(uint)), NaNPoison, 5);
        var back = new uint[10];
        Device.Download(buffer.Address, back.AsSpan());
        Assert.Equal([0u, 1, 2, NaNPoison, NaNPoison, NaNPoison, NaNPoison, NaNPoison, 8, 9], back);
    }

    [Theory]
    [InlineData(1, 1, 32)]
    [InlineData(1000, 3, 128)]
    [InlineData(4099, 7, 96)]
    public void Axpy_covers_every_element_over_a_grid_stride_loop(int n, uint blocks, uint threads)
    {
        var x = Numerics.RandomFloats(_random, n);
        var y = Numerics.RandomFloats(_random, n);
        const float a = 0.75f;
        using var xs = Device.Allocate(n * sizeof(float));
        using var ys = Device.Allocate(n * sizeof(float));
        Device.Upload<float>(x, xs.Address);
        Device.Upload<float>(y, ys.Address);

        Device.Launch("c2f_selftest_axpy_f32", new LaunchShape(new Dim3(blocks), new Dim3(threads)),
            KernelArg.Pointer(ys.Address), KernelArg.Pointer(xs.Address), a, n);

        var actual = new float[n];
        Device.Download(ys.Address, actual.AsSpan());
        // Per element against the size of its terms: y + a·x may cancel to nearly nothing, where a relative error
        // of the result says little (one float rounding of the terms, about 6e-8 of them, is all a kernel may add).
        for (int i = 0; i < n; i++)
        {
            double expected = y[i] + (double)a * x[i], scale = Math.Abs(y[i]) + Math.Abs(a * x[i]);
            Assert.True(Math.Abs(actual[i] - expected) <= 1e-6 * scale, $"axpy element {i}: {actual[i]}, expected {expected}");
        }
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(1000, 96)]
    [InlineData(5000, 1024)]
    public void Block_sums_meet_across_shuffles_shared_memory_and_a_barrier(int n, uint threads)
    {
        var x = Numerics.RandomFloats(_random, n);
        var blocks = (uint)((n + threads - 1) / threads);
        using var xs = Device.Allocate(n * sizeof(float));
        using var sums = Device.Allocate(blocks * sizeof(float));
        Device.Upload<float>(x, xs.Address);
        Device.Fill32(sums.Address, NaNPoison, blocks);

        Device.Launch("c2f_selftest_block_sum_f32", new LaunchShape(new Dim3(blocks), new Dim3(threads), (int)(threads / 32 * sizeof(float))),
            KernelArg.Pointer(sums.Address), KernelArg.Pointer(xs.Address), n);

        var actual = new float[blocks];
        Device.Download(sums.Address, actual.AsSpan());
        var expected = Enumerable.Range(0, (int)blocks)
            .Select(b => x.Skip(b * (int)threads).Take((int)threads).Sum(v => (double)v)).ToArray();
        Numerics.AssertClose(actual, expected, 1e-5, "block sums");
    }

    [Fact]
    public void A_launch_may_ask_for_more_than_48_KiB_of_dynamic_shared_memory()
    {
        // The driver needs each kernel's limit raised first (cuFuncSetAttribute); the device does it on demand.
        const int n = 100;
        var x = Numerics.RandomFloats(_random, n);
        using var xs = Device.Allocate(n * sizeof(float));
        using var sum = Device.Allocate(sizeof(float));
        Device.Upload<float>(x, xs.Address);
        Device.Fill32(sum.Address, NaNPoison, 1);

        Device.Launch("c2f_selftest_block_sum_f32", new LaunchShape(new Dim3(1), new Dim3(128), 96 * 1024),
            KernelArg.Pointer(sum.Address), KernelArg.Pointer(xs.Address), n);

        var actual = new float[1];
        Device.Download(sum.Address, actual.AsSpan());
        Numerics.AssertClose(actual, [x.Sum(v => (double)v)], 1e-5, "block sum");
    }

    [Fact]
    public void Four_and_eight_byte_arguments_arrive_intact_in_any_order()
    {
        using var output = Device.Allocate(5 * sizeof(ulong));
        Device.Fill32(output.Address, NaNPoison, 10);

        Device.Launch("c2f_selftest_echo_args", new LaunchShape(new Dim3(1), new Dim3(32)),
            KernelArg.Pointer(output.Address), -7, 2.5f, Math.PI, -(1L << 40) - 3, 0xDEADBEEFu);

        var back = new ulong[5];
        Device.Download(output.Address, back.AsSpan());
        Assert.Equal([unchecked((uint)-7), BitConverter.SingleToUInt32Bits(2.5f), BitConverter.DoubleToUInt64Bits(Math.PI),
            unchecked((ulong)(-(1L << 40) - 3)), 0xDEADBEEFul], back);
    }

    [Fact]
    public void Launching_an_unknown_kernel_fails_naming_it()
    {
        var error = Assert.Throws<CudaException>(() =>
            Device.Launch("c2f_no_such_kernel_f32", new LaunchShape(new Dim3(1), new Dim3(32))));
        Assert.Equal("c2f_no_such_kernel_f32", error.Call);
        Assert.Contains("c2f_no_such_kernel_f32", error.Message);
    }

    [Theory]
    [InlineData(0u, 1u)]
    [InlineData(1025u, 1u)]
    [InlineData(32u, 33u)]
    public void A_block_of_no_threads_or_more_than_1024_fails_before_the_launch(uint x, uint y)
    {
        using var buffer = Device.Allocate(sizeof(float));
        var error = Assert.Throws<CudaException>(() =>
            Device.Launch("c2f_selftest_axpy_f32", new LaunchShape(new Dim3(1), new Dim3(x, y)),
                KernelArg.Pointer(buffer.Address), KernelArg.Pointer(buffer.Address), 1f, 1));
        Assert.Contains("c2f_selftest_axpy_f32", error.Message);
        Assert.Contains("1 to 1024", error.Message);
    }

    [Fact]
    public void Disposing_a_buffer_twice_frees_it_once()
    {
        var buffer = Device.Allocate(256);
        buffer.Dispose();
        buffer.Dispose();
    }
}
