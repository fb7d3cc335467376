using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>Device memory and host transfers; F64 and BF16 tensors convert on the host.</summary>
public sealed partial class CudaBackend
{
    public override Tensor Allocate(Shape shape, DType dtype) =>
        new(this, new CudaStorage(_device.Allocate(shape.ElementCount * dtype.SizeInBytes())), 0, shape, dtype, ownsStorage: true);

    public override void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F32: _device.Upload(source, A(destination)); break;
            case DType.F64: UploadConverted(source, destination, x => (double)x); break;
            case DType.BF16: UploadConverted(source, destination, BFloat16.FromSingle); break;
            default: throw new ArgumentException($"cannot upload floats into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<double> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F64: _device.Upload(source, A(destination)); break;
            case DType.F32: UploadConverted(source, destination, x => (float)x); break;
            default: throw new ArgumentException($"cannot upload doubles into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        if (destination.DType != DType.I32) throw new ArgumentException($"cannot upload ints into a {destination.DType} tensor");
        _device.Upload(source, A(destination));
    }

    public override void Download(Tensor source, Span<float> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F32: _device.Download(A(source), destination); break;
            case DType.F64: DownloadConverted<double, float>(source, destination, x => (float)x); break;
            case DType.BF16: DownloadConverted<ushort, float>(source, destination, BFloat16.ToSingle); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as floats");
        }
        _faults.ThrowIfAny();
    }

    public override void Download(Tensor source, Span<double> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F64: _device.Download(A(source), destination); break;
            case DType.F32: DownloadConverted<float, double>(source, destination, x => x); break;
            case DType.BF16: DownloadConverted<ushort, double>(source, destination, x => BFloat16.ToSingle(x)); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as doubles");
        }
        _faults.ThrowIfAny();
    }

    public override void Download(Tensor source, Span<int> destination)
    {
        RequireLength(destination.Length, source);
        if (source.DType != DType.I32) throw new ArgumentException($"cannot download a {source.DType} tensor as ints");
        _device.Download(A(source), destination);
        _faults.ThrowIfAny();
    }

    private void UploadConverted<TSource, TDevice>(ReadOnlySpan<TSource> source, Tensor destination, Func<TSource, TDevice> convert)
        where TDevice : unmanaged
    {
        var converted = new TDevice[source.Length];
        for (int i = 0; i < source.Length; i++) converted[i] = convert(source[i]);
        _device.Upload<TDevice>(converted, A(destination));
    }

    private void DownloadConverted<TDevice, TResult>(Tensor source, Span<TResult> destination, Func<TDevice, TResult> convert)
        where TDevice : unmanaged
    {
        var raw = new TDevice[destination.Length];
        _device.Download<TDevice>(A(source), raw);
        for (int i = 0; i < raw.Length; i++) destination[i] = convert(raw[i]);
    }

    private static void RequireLength(long length, Tensor t)
    {
        if (length != t.ElementCount)
            throw new ArgumentException($"{length} host values for a tensor of {t.ElementCount} elements {t.Shape}");
    }
}
