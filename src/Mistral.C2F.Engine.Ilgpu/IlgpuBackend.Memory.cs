using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>Device memory and host transfers. Conversions to and from F64, BF16 and F16 go through a host buffer of the target type.</summary>
public sealed partial class IlgpuBackend
{
    public override Tensor Allocate(Shape shape, DType dtype) =>
        new(this, new IlgpuStorage(_accelerator, shape.ElementCount * dtype.SizeInBytes()), 0, shape, dtype, ownsStorage: true);

    public override void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F32: IlgpuStorage.View<float>(destination).CopyFromCPU(source); break;
            case DType.F64: UploadConverted(source, destination, x => (double)x); break;
            case DType.BF16:
                var bits = new ushort[source.Length];
                BFloat16.FromSingle(source, bits);
                IlgpuStorage.View<ushort>(destination).CopyFromCPU<ushort, ArrayView<ushort>>(bits);
                break;
            case DType.F16: UploadConverted(source, destination, x => BitConverter.HalfToUInt16Bits((System.Half)x)); break;
            default: throw new ArgumentException($"cannot upload floats into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<double> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F64: IlgpuStorage.View<double>(destination).CopyFromCPU(source); break;
            case DType.F32: UploadConverted(source, destination, x => (float)x); break;
            default: throw new ArgumentException($"cannot upload doubles into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        if (destination.DType != DType.I32) throw new ArgumentException($"cannot upload ints into a {destination.DType} tensor");
        IlgpuStorage.View<int>(destination).CopyFromCPU(source);
    }

    public override void Download(Tensor source, Span<float> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F32: IlgpuStorage.View<float>(source).CopyToCPU(destination); break;
            case DType.F64: DownloadConverted<double, float>(source, destination, x => (float)x); break;
            case DType.BF16:
                var bits = new ushort[destination.Length];
                IlgpuStorage.View<ushort>(source).CopyToCPU(bits.AsSpan());
                BFloat16.ToSingle(bits, destination);
                break;
            case DType.F16: DownloadConverted<ushort, float>(source, destination, x => (float)BitConverter.UInt16BitsToHalf(x)); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as floats");
        }
        _faults.ThrowIfAny();
    }

    public override void Download(Tensor source, Span<double> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F64: IlgpuStorage.View<double>(source).CopyToCPU(destination); break;
            case DType.F32: DownloadConverted<float, double>(source, destination, x => x); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as doubles");
        }
        _faults.ThrowIfAny();
    }

    public override void Download(Tensor source, Span<int> destination)
    {
        RequireLength(destination.Length, source);
        if (source.DType != DType.I32) throw new ArgumentException($"cannot download a {source.DType} tensor as ints");
        IlgpuStorage.View<int>(source).CopyToCPU(destination);
        _faults.ThrowIfAny();
    }

    private static void UploadConverted<TFrom, TTo>(ReadOnlySpan<TFrom> source, Tensor destination, Func<TFrom, TTo> convert) where TTo : unmanaged
    {
        var converted = new TTo[source.Length];
        for (int i = 0; i < source.Length; i++) converted[i] = convert(source[i]);
        IlgpuStorage.View<TTo>(destination).CopyFromCPU<TTo, ArrayView<TTo>>(converted);
    }

    private static void DownloadConverted<TFrom, TTo>(Tensor source, Span<TTo> destination, Func<TFrom, TTo> convert) where TFrom : unmanaged
    {
        var raw = new TFrom[destination.Length];
        IlgpuStorage.View<TFrom>(source).CopyToCPU(raw.AsSpan());
        for (int i = 0; i < raw.Length; i++) destination[i] = convert(raw[i]);
    }

    private static void RequireLength(int length, Tensor t)
    {
        if (length != t.ElementCount)
            throw new ArgumentException($"host buffer of {length} elements does not match tensor {t.Shape} ({t.ElementCount} elements)");
    }
}
