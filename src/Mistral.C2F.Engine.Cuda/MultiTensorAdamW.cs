using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// The optimizer's AdamW as one launch over every parameter: the device table of the parameter list is uploaded
/// once and reused while the list names the same buffers (an optimizer's does, step after step).
/// </summary>
internal sealed class MultiTensorAdamW(IKernelDevice device, AdamWKernels kernels) : IDisposable
{
    private AdamWTable? _table;
    private AdamWTensor[] _tableTensors = [];

    public void Step(IReadOnlyList<AdamWParameter> parameters, AdamWStep step, AdamWDeviceGuard? guard = null)
    {
        var tensors = parameters.Where(p => p.Parameter.ElementCount > 0).Select(p => new AdamWTensor(CudaStorage.Address(p.Parameter),
            CudaStorage.Address(p.Gradient), CudaStorage.Address(p.FirstMoment), CudaStorage.Address(p.SecondMoment),
            p.Parameter.ElementCount, p.Decays)).ToArray();
        if (_table is null || !tensors.AsSpan().SequenceEqual(_tableTensors))
        {
            _table?.Dispose();
            _table = new AdamWTable(device, tensors);
            _tableTensors = tensors;
        }
        kernels.Step(_table, step, guard);
    }

    public void Dispose() => _table?.Dispose();
}
