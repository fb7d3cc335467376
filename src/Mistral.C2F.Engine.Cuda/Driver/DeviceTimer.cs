using static Mistral.C2F.Engine.Cuda.Driver.CudaDriverApi;

namespace Mistral.C2F.Engine.Cuda.Driver;

/// <summary>
/// Times work on a device stream with two events (cuEventElapsedTime, about 0.5 µs resolution), so a benchmark
/// measures the kernels, not the host's launch overhead or its clock.
/// </summary>
public sealed class DeviceTimer : IDisposable
{
    private readonly CudaDriverDevice _device;
    private readonly nint _stream;
    private readonly nint _start;
    private readonly nint _stop;

    internal DeviceTimer(CudaDriverDevice device, nint stream)
    {
        (_device, _stream) = (device, stream);
        device.MakeCurrent();
        Check(cuEventCreate(out _start, 0), "cuEventCreate");
        Check(cuEventCreate(out _stop, 0), "cuEventCreate");
    }

    /// <summary>Marks the start after the launches queued so far.</summary>
    public void Start()
    {
        _device.MakeCurrent();
        Check(cuEventRecord(_start, _stream), "cuEventRecord");
    }

    /// <summary>Marks the end after the launches queued since <see cref="Start"/>.</summary>
    public void Stop()
    {
        _device.MakeCurrent();
        Check(cuEventRecord(_stop, _stream), "cuEventRecord");
    }

    /// <summary>Device time between Start and Stop; waits for the work up to Stop.</summary>
    public double ElapsedMilliseconds
    {
        get
        {
            _device.MakeCurrent();
            Check(cuEventSynchronize(_stop), "cuEventSynchronize");
            Check(cuEventElapsedTime(out var milliseconds, _start, _stop), "cuEventElapsedTime");
            return milliseconds;
        }
    }

    public void Dispose()
    {
        _device.MakeCurrent();
        cuEventDestroy(_start);
        cuEventDestroy(_stop);
    }
}
