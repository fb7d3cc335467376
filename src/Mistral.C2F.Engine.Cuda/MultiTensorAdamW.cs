using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// The optimizer's AdamW as one launch over every parameter: the device table of the parameter list is uploaded
/// once and reused while the list names the same buffers (an optimizer's does, step after step). Given
/// <see cref="Bf16Copies"/>, the launch also writes the bf16 copy of each parameter a tensor-core kernel reads, so those
/// kernels read current weights without rounding them again.
/// </summary>
internal sealed class MultiTensorAdamW(IKernelDevice device, AdamWKernels kernels, Bf16Copies? bf16Copies) : IDisposable
{
    private AdamWTable? _table;
    private AdamWTensor[] _tableTensors = [];

    public void Step(IReadOnlyList<AdamWParameter> parameters, AdamWStep step, AdamWDeviceGuard? guard = null)
    {
        var tensors = parameters.Where(p => p.Parameter.ElementCount > 0).Select(Entry).ToArray();
        if (_table is null || !tensors.AsSpan().SequenceEqual(_tableTensors))
        {
            _table?.Dispose();
            _table = new AdamWTable(device, tensors);
            _tableTensors = tensors;
        }
        kernels.Step(_table, step, guard);
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

    public void Dispose() => _table?.Dispose();
}
