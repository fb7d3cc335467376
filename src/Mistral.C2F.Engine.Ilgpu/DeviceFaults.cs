using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// Index errors found by kernels (a row index or target token out of range). A kernel cannot throw, and
/// checking indices on the host would cost a round trip per op, so the first fault is recorded on the
/// device ([code, value, limit]) and thrown at the next point that synchronises anyway: a download or
/// <see cref="Mistral.C2F.Engine.Backends.Backend.SumOfSquares"/>. The op's output is then undefined.
/// </summary>
internal sealed class DeviceFaults : IDisposable
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _record;
    private readonly DeviceCounter _counter;

    public DeviceFaults(Accelerator accelerator, DeviceCounter counter)
    {
        _counter = counter;
        _record = accelerator.Allocate1D<int>(3);
        _record.MemSetToZero();
    }

    public ArrayView<int> View => _record.View.AsContiguous();

    /// <summary>Device side: keeps the first fault of any thread.</summary>
    public static void Report(ArrayView<int> record, int code, int value, long limit)
    {
        if (Atomic.CompareExchange(ref record[0], DeviceFault.None, code) != DeviceFault.None) return;
        record[1] = value;
        record[2] = (int)limit;
    }

    public void ThrowIfAny()
    {
        var record = new int[3];
        _record.View.AsContiguous().CopyToCPU(record.AsSpan());
        _counter.Synced();
        _counter.Downloaded(record.Length * sizeof(int));
        if (DeviceFault.ToException(record, "ILGPU") is not { } fault) return;
        _record.MemSetToZero();
        throw fault;
    }

    public void Dispose() => _record.Dispose();
}
