using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// Index errors found by kernels (a row index or target token out of range). A kernel cannot throw, and
/// checking indices on the host would cost a round trip per op, so the first fault is recorded on the
/// device ([code, value, limit]) and thrown at the next point that synchronises anyway: a download or
/// <see cref="Mistral.C2F.Engine.Backends.Backend.SumOfSquares"/>. The op's output is then undefined.
/// </summary>
internal sealed class DeviceFaults : IDisposable
{
    public const int None = 0, GatherRowIndex = 1, ScatterRowIndex = 2, ScatterAddRowIndex = 3, TargetToken = 4;

    private readonly MemoryBuffer1D<int, Stride1D.Dense> _record;

    public DeviceFaults(Accelerator accelerator)
    {
        _record = accelerator.Allocate1D<int>(3);
        _record.MemSetToZero();
    }

    public ArrayView<int> View => _record.View.AsContiguous();

    /// <summary>Device side: keeps the first fault of any thread.</summary>
    public static void Report(ArrayView<int> record, int code, int value, long limit)
    {
        if (Atomic.CompareExchange(ref record[0], None, code) != None) return;
        record[1] = value;
        record[2] = (int)limit;
    }

    public void ThrowIfAny()
    {
        var record = new int[3];
        _record.View.AsContiguous().CopyToCPU(record.AsSpan());
        if (record[0] == None) return;
        _record.MemSetToZero();
        int value = record[1], limit = record[2];
        throw new IndexOutOfRangeException(record[0] switch
        {
            GatherRowIndex => $"GatherRows: row index {value} outside 0..{limit - 1}",
            ScatterRowIndex => $"ScatterRows: row index {value} outside 0..{limit - 1}",
            ScatterAddRowIndex => $"ScatterAddRows: row index {value} outside 0..{limit - 1}",
            TargetToken => $"target token {value} outside the vocabulary of {limit}",
            _ => $"device fault {record[0]} (value {value}, limit {limit})",
        } + " (reported by an earlier ILGPU kernel)");
    }

    public void Dispose() => _record.Dispose();
}
