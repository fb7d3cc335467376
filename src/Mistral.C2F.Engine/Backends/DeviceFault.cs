namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// Index errors that device kernels record instead of throwing: the first fault of any thread as
/// [code, value, limit], thrown by the host at its next synchronising call. The codes are shared by the ILGPU
/// kernels and the CUDA kernels (c2f::report_fault in kernels/include/c2f/vector_io.cuh).
/// </summary>
public static class DeviceFault
{
    public const int None = 0, GatherRowIndex = 1, ScatterRowIndex = 2, ScatterAddRowIndex = 3, TargetToken = 4;

    /// <summary>The exception a record describes, or null when it holds none; <paramref name="reporter"/> names the kernels' kind.</summary>
    public static IndexOutOfRangeException? ToException(ReadOnlySpan<int> record, string reporter)
    {
        if (record[0] == None) return null;
        int value = record[1], limit = record[2];
        return new IndexOutOfRangeException(record[0] switch
        {
            GatherRowIndex => $"GatherRows: row index {value} outside 0..{limit - 1}",
            ScatterRowIndex => $"ScatterRows: row index {value} outside 0..{limit - 1}",
            ScatterAddRowIndex => $"ScatterAddRows: row index {value} outside 0..{limit - 1}",
            TargetToken => $"target token {value} outside the vocabulary of {limit}",
            _ => $"device fault {record[0]} (value {value}, limit {limit})",
        } + $" (reported by an earlier {reporter} kernel)");
    }
}
