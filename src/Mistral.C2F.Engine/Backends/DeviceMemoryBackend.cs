using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// A backend whose tensors live in device memory (ILGPU, the CUDA kernels): host transfers of every dtype,
/// written once over the backend's two raw copies. Conversions (F64, BF16, F16) happen on the host.
/// </summary>
public abstract class DeviceMemoryBackend : Backend
{
    /// <summary>Copies host elements into the tensor's device memory, element type as stored.</summary>
    protected abstract void CopyToDevice<T>(ReadOnlySpan<T> source, Tensor destination) where T : unmanaged;

    /// <summary>Copies the tensor's device memory into host elements, waiting for the work that writes it.</summary>
    protected abstract void CopyToHost<T>(Tensor source, Span<T> destination) where T : unmanaged;

    /// <summary>Called after every download: where a backend reports faults its kernels recorded.</summary>
    protected virtual void AfterDownload() { }

    public override void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F32: CopyToDevice(source, destination); break;
            case DType.F64: UploadConverted(source, destination, x => (double)x); break;
            case DType.BF16:
                var bits = new ushort[source.Length];
                BFloat16.FromSingle(source, bits);
                CopyToDevice<ushort>(bits, destination);
                break;
            case DType.F16: UploadConverted(source, destination, x => BitConverter.HalfToUInt16Bits((Half)x)); break;
            default: throw new ArgumentException($"cannot upload floats into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<double> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        switch (destination.DType)
        {
            case DType.F64: CopyToDevice(source, destination); break;
            case DType.F32: UploadConverted(source, destination, x => (float)x); break;
            default: throw new ArgumentException($"cannot upload doubles into a {destination.DType} tensor");
        }
    }

    public override void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        RequireLength(source.Length, destination);
        if (destination.DType != DType.I32) throw new ArgumentException($"cannot upload ints into a {destination.DType} tensor");
        CopyToDevice(source, destination);
    }

    public override void Download(Tensor source, Span<float> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F32: CopyToHost(source, destination); break;
            case DType.F64: DownloadConverted<double, float>(source, destination, x => (float)x); break;
            case DType.BF16:
                var bits = new ushort[destination.Length];
                CopyToHost<ushort>(source, bits);
                BFloat16.ToSingle(bits, destination);
                break;
            case DType.F16: DownloadConverted<ushort, float>(source, destination, x => (float)BitConverter.UInt16BitsToHalf(x)); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as floats");
        }
        AfterDownload();
    }

    public override void Download(Tensor source, Span<double> destination)
    {
        RequireLength(destination.Length, source);
        switch (source.DType)
        {
            case DType.F64: CopyToHost(source, destination); break;
            case DType.F32: DownloadConverted<float, double>(source, destination, x => x); break;
            default: throw new ArgumentException($"cannot download a {source.DType} tensor as doubles");
        }
        AfterDownload();
    }

    public override void Download(Tensor source, Span<int> destination)
    {
        RequireLength(destination.Length, source);
        if (source.DType != DType.I32) throw new ArgumentException($"cannot download a {source.DType} tensor as ints");
        CopyToHost(source, destination);
        AfterDownload();
    }

    private void UploadConverted<TFrom, TTo>(ReadOnlySpan<TFrom> source, Tensor destination, Func<TFrom, TTo> convert) where TTo : unmanaged
    {
        var converted = new TTo[source.Length];
        for (int i = 0; i < source.Length; i++) converted[i] = convert(source[i]);
        CopyToDevice<TTo>(converted, destination);
    }

    private void DownloadConverted<TFrom, TTo>(Tensor source, Span<TTo> destination, Func<TFrom, TTo> convert) where TFrom : unmanaged
    {
        var raw = new TFrom[destination.Length];
        CopyToHost<TFrom>(source, raw);
        for (int i = 0; i < raw.Length; i++) destination[i] = convert(raw[i]);
    }

    private static void RequireLength(int length, Tensor t)
    {
        if (length != t.ElementCount)
            throw new ArgumentException($"host buffer of {length} elements does not match tensor {t.Shape} ({t.ElementCount} elements)");
    }
}
