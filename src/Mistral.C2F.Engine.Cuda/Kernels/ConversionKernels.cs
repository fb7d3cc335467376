namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>Storage conversions on the device (kernels/convert.cu).</summary>
public sealed class ConversionKernels(IKernelDevice device)
{
    /// <summary>destination[i] = bf16(source[i]), rounded to nearest even, for <paramref name="count"/> elements.</summary>
    public void ToBf16(ulong source, ulong destination, long count)
    {
        if (count == 0) return;
        device.Launch("c2f_convert_f32_to_bf16", MemoryBoundLaunch.Flat(count, vectorWidth: 1),
            KernelArg.Pointer(source), KernelArg.Pointer(destination), MemoryBoundLaunch.Int(count, nameof(count)));
    }

    /// <summary>destination[i] = source[i] widened from bf16 to float32 (exact), for <paramref name="count"/> elements.</summary>
    public void ToF32(ulong source, ulong destination, long count)
    {
        if (count == 0) return;
        device.Launch("c2f_convert_bf16_to_f32", MemoryBoundLaunch.Flat(count, vectorWidth: 1),
            KernelArg.Pointer(source), KernelArg.Pointer(destination), MemoryBoundLaunch.Int(count, nameof(count)));
    }
}
