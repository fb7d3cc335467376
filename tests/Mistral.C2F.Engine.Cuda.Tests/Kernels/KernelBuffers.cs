namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// Device arrays of a kernel test, freed together. Each array can start <c>offset</c> elements past a 256-byte
/// aligned allocation, as a row view of a larger tensor does, so the kernels' scalar paths are exercised.
/// </summary>
internal sealed class KernelBuffers(IKernelDevice device) : IDisposable
{
    private const uint NaN32 = 0x7FC00000, NaNBf16Pair = 0x7FC07FC0;

    private readonly List<DeviceBuffer> _buffers = [];

    public ulong Floats(ReadOnlySpan<float> values, int offset = 0)
    {
        ulong address = Allocate(values.Length, sizeof(float), offset);
        device.Upload(values, address);
        return address;
    }

    public ulong Ints(ReadOnlySpan<int> values) => Upload(values);

    /// <summary>Values rounded to bf16 (use <see cref="Bf16.Round(float[])"/> for the reference's inputs).</summary>
    public ulong Bf16Values(ReadOnlySpan<float> values, int offset = 0)
    {
        var bits = new ushort[values.Length];
        for (int i = 0; i < bits.Length; i++) bits[i] = Bf16.FromFloat(values[i]);
        ulong address = Allocate(values.Length, sizeof(ushort), offset);
        device.Upload<ushort>(bits, address);
        return address;
    }

    /// <summary>Float32 (or, with <paramref name="bf16"/>, bf16) storage filled with NaN, for outputs.</summary>
    public ulong Poisoned(long count, int offset = 0, bool bf16 = false)
    {
        int elementBytes = bf16 ? sizeof(ushort) : sizeof(float);
        ulong address = Allocate(count, elementBytes, offset);
        // Fill32 needs whole words: poison the enclosing words (the allocation has room for them).
        ulong first = address & ~3UL;
        long words = ((long)(address - first) + count * elementBytes + 3) / 4;
        device.Fill32(first, bf16 ? NaNBf16Pair : NaN32, words);
        return address;
    }

    public float[] ReadFloats(ulong address, long count)
    {
        var values = new float[count];
        device.Download<float>(address, values);
        return values;
    }

    public float[] ReadBf16(ulong address, long count)
    {
        var bits = new ushort[count];
        device.Download<ushort>(address, bits);
        return Array.ConvertAll(bits, Bf16.ToFloat);
    }

    private ulong Upload<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        ulong address = Allocate(values.Length, System.Runtime.CompilerServices.Unsafe.SizeOf<T>(), 0);
        device.Upload(values, address);
        return address;
    }

    private ulong Allocate(long count, int elementBytes, int offset)
    {
        var buffer = device.Allocate(Math.Max(4, (count + offset) * elementBytes + 4));
        _buffers.Add(buffer);
        return buffer.Address + (ulong)(offset * elementBytes);
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers) buffer.Dispose();
    }
}

/// <summary>bf16 as the kernels store it: the upper 16 bits of a float32, rounded to nearest even.</summary>
internal static class Bf16
{
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static float[] Round(float[] values) => Array.ConvertAll(values, v => ToFloat(FromFloat(v)));
}
