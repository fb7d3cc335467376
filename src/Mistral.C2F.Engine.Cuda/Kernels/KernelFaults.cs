using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Index errors found by kernels (a row index or target token outside its table). A kernel cannot throw and
/// a host-side check would cost a round trip per op, so the first fault is recorded on the device as
/// [code, value, limit] (c2f::report_fault in kernels/include/c2f/vector_io.cuh) and thrown by
/// <see cref="ThrowIfAny"/> at the next point that synchronises anyway. The faulting op's output is undefined.
/// </summary>
public sealed class KernelFaults : IDisposable
{
    private readonly IKernelDevice _device;
    private readonly DeviceBuffer _record;

    public KernelFaults(IKernelDevice device)
    {
        _device = device;
        _record = device.Allocate(3 * sizeof(int));
        Clear();
    }

    /// <summary>The device address of the record, the kernels' <c>int* fault</c> parameter.</summary>
    public ulong Address => _record.Address;

    public void ThrowIfAny()
    {
        var record = new int[3];
        _device.Download<int>(_record.Address, record);
        if (DeviceFault.ToException(record, "CUDA") is not { } fault) return;
        Clear();
        throw fault;
    }

    private void Clear() => _device.Fill32(_record.Address, 0, 3);

    public void Dispose() => _record.Dispose();
}
