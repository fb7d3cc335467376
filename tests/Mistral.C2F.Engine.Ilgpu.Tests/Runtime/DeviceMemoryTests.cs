using Mistral.C2F.Engine.Ilgpu.Tests.Support;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Runtime;

/// <summary>Device storage, host transfers with their dtype conversions, and tensor views onto device memory.</summary>
[Trait("Backend", "ilgpu")]
public sealed class DeviceMemoryTests(IlgpuBackends backends)
{
    private readonly IlgpuBackend _backend = backends.Cpu;

    [Fact]
    public void Floats_and_ints_round_trip_exactly()
    {
        float[] floats = [1.5f, -0f, float.MaxValue, float.Epsilon, -3.25f];
        using var f = _backend.FromFloats(floats, 5);
        Assert.Equal(floats, _backend.ToFloats(f));
        int[] ints = [int.MinValue, -1, 0, 7, int.MaxValue];
        using var i = _backend.FromInts(ints, 5);
        var back = new int[5];
        _backend.Download(i, back);
        Assert.Equal(ints, back);
    }

    [Theory]
    [InlineData(DType.F64)]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    public void Other_float_types_convert_through_the_host_as_the_host_backends_do(DType dtype)
    {
        float[] values = [1f, -2.5f, 0.1f, 65504f, 3.0e-5f, float.NaN];
        using var device = _backend.Allocate(new Shape(values.Length), dtype);
        using var host = new Backends.Reference.ReferenceBackend();
        using var reference = host.Allocate(new Shape(values.Length), dtype);
        _backend.Upload(values, device);
        host.Upload(values, reference);
        var (actual, expected) = (new float[values.Length], new float[values.Length]);
        _backend.Download(device, actual);
        host.Download(reference, expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Doubles_upload_into_float32_and_download_back()
    {
        using var t = _backend.Allocate(new Shape(3), DType.F32);
        _backend.Upload([0.1, -2.0, 1e10], t);
        Assert.Equal([(double)0.1f, -2.0, (double)1e10f], _backend.ToDoubles(t));
    }

    [Fact]
    public void Row_views_read_and_write_their_own_window_of_the_storage()
    {
        using var whole = _backend.FromFloats(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 4, 3);
        var rows = whole.SliceRows(1, 2);
        Assert.Equal([3f, 4f, 5f, 6f, 7f, 8f], _backend.ToFloats(rows));
        _backend.Upload([-1f, -2f, -3f], rows.Reshape(2, 3).SliceRows(1, 1));
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f, -1f, -2f, -3f, 9f, 10f, 11f], _backend.ToFloats(whole));
    }

    [Fact]
    public void Transfers_reject_a_host_buffer_of_the_wrong_length_and_tensors_of_another_backend()
    {
        using var t = _backend.Allocate(2, 3);
        Assert.Throws<ArgumentException>(() => _backend.Upload(new float[5], t));
        using var host = new Backends.Cpu.CpuBackend(1);
        using var foreign = host.Allocate(2, 3);
        var error = Assert.Throws<ArgumentException>(() => _backend.Add(foreign, t, t));
        Assert.Contains("belongs to backend 'cpu'", error.Message);
    }
}
