using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// One device buffer for the temporaries of a single op (partial sums, attention's row deltas). Ops run
/// in order on one stream, so one op's temporaries never overlap another's; the buffer only grows.
/// </summary>
internal sealed class DeviceScratch(Accelerator accelerator, DeviceCounter counter) : IDisposable
{
    private MemoryBuffer1D<double, Stride1D.Dense>? _buffer;

    public ArrayView<T> Get<T>(long count) where T : unmanaged
    {
        long doubles = Math.Max(1, (count * Interop.SizeOf<T>() + 7) / 8);
        if (_buffer is null || _buffer.Length < doubles)
        {
            // Kernels still queued may read the old buffer: let them finish before freeing it.
            accelerator.Synchronize();
            counter.Synced();
            if (_buffer is not null)
            {
                _buffer.Dispose();
                counter.Freed();
            }
            _buffer = accelerator.Allocate1D<double>(Math.Max(doubles, 2 * (_buffer?.Length ?? 0)));
            counter.Allocated();
        }
        return _buffer.View.AsContiguous().Cast<T>().SubView(0, count);
    }

    public void Dispose() => _buffer?.Dispose();
}
