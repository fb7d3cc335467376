using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// The optimizer's AdamW as one launch over every parameter: the device table of a parameter list is uploaded once
/// and reused whenever the list names the same buffers (an optimizer's does, step after step), for the last few lists
/// (PPO's actor and critic take turns on one backend). Given
/// <see cref="Bf16Copies"/>, the launch also writes the bf16 copy of each parameter a tensor-core kernel reads, so those
/// kernels read current weights without rounding them again.
/// </summary>
internal sealed class MultiTensorAdamW(IKernelDevice device, AdamWKernels kernels, Bf16Copies? bf16Copies) : IDisposable
{
    /// <summary>Tables kept: more optimizers than this taking turns rebuild theirs.</summary>
    private const int KeptTables = 4;

    /// <summary>The tables of the lists used last, most recent first.</summary>
    private readonly List<(AdamWTensor[] Tensors, AdamWTable Table)> _tables = [];

    public void Step(IReadOnlyList<AdamWParameter> parameters, AdamWStep step, AdamWDeviceGuard? guard = null)
    {
        var tensors = parameters.Where(p => p.Parameter.ElementCount > 0).Select(Entry).ToArray();
        int kept = _tables.FindIndex(t => t.Tensors.AsSpan().SequenceEqual(tensors));
        var entry = kept >= 0 ? _tables[kept] : (Tensors: tensors, Table: new AdamWTable(device, tensors));
        if (kept >= 0) _tables.RemoveAt(kept);
        _tables.Insert(0, entry);
        if (_tables.Count > KeptTables)
        {
            _tables[^1].Table.Dispose();
            _tables.RemoveAt(_tables.Count - 1);
        }
        kernels.Step(entry.Table, step, guard);
    }

    /// <remarks>
    /// A kept copy is made current before the launch (if stale, rounded once): a guarded step that skips its update
    /// leaves the parameter as it was, and then the copy must already match it.
    /// </remarks>
    private AdamWTensor Entry(AdamWParameter p)
    {
        ulong copy = bf16Copies?.CurrentIfKept(p.Parameter) ?? 0;
        ulong parameter = copy == 0 ? CudaStorage.WriteAddress(p.Parameter) : CudaStorage.Address(p.Parameter);
        return new AdamWTensor(parameter, CudaStorage.Address(p.Gradient), CudaStorage.WriteAddress(p.FirstMoment),
            CudaStorage.WriteAddress(p.SecondMoment), p.Parameter.ElementCount, p.Decays, copy);
    }

    public void Dispose()
    {
        foreach (var (_, table) in _tables) table.Dispose();
        _tables.Clear();
    }
}
