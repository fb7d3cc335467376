using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Distributed;

/// <summary>
/// Sums a fixed list of float32 tensors (an optimizer's gradients and its loss) over the ranks, packed into buckets of
/// at least 64 MiB so that a step makes a few large collectives instead of one per tensor, as DDP's buckets do. Where
/// the communicator has collectives on the backend's buffers (<see cref="IDeviceCollectives"/>: NCCL on a GPU) a bucket
/// is summed there in place, one grouped call per bucket, and the step waits once for all of them; otherwise each
/// bucket goes through host memory: downloaded, summed by the communicator, uploaded.
/// </summary>
public sealed class GradientAllReduce
{
    private const long MinBucketElements = 1 << 24;

    private readonly Backend _backend;
    private readonly ICommunicator _communicator;
    private readonly IDeviceCollectives? _device;
    private readonly Tensor[][] _buckets;
    private readonly float[] _buffer;

    public GradientAllReduce(Backend backend, ICommunicator communicator, IReadOnlyList<Tensor> tensors)
    {
        (_backend, _communicator, _device) = (backend, communicator, DeviceCollectivesFor(backend, communicator));
        long capacity = Math.Max(MinBucketElements, tensors.Max(t => t.ElementCount));
        var buckets = new List<List<Tensor>> { new() };
        long filled = 0;
        foreach (var tensor in tensors)
        {
            if (filled + tensor.ElementCount > capacity)
            {
                buckets.Add([]);
                filled = 0;
            }
            buckets[^1].Add(tensor);
            filled += tensor.ElementCount;
        }
        _buckets = buckets.Select(b => b.ToArray()).ToArray();
        _buffer = _device is null ? new float[_buckets.Max(b => b.Sum(t => t.ElementCount))] : [];
    }

    /// <summary>
    /// Whether an optimizer's gradients need summing: over several ranks, or over one where the communicator sums the
    /// backend's buffers itself (a one-rank NCCL job runs NCCL, which is how a single GPU checks that path).
    /// </summary>
    public static bool Needed(Backend backend, ICommunicator communicator) => communicator.Size > 1 || DeviceCollectivesFor(backend, communicator) is not null;

    /// <summary>Every tensor becomes its sum over the ranks; every rank must call it at the same point.</summary>
    public void Run()
    {
        foreach (var bucket in _buckets)
        {
            if (_device is not null) _device.AllReduceSum(bucket);
            else SumThroughHost(bucket);
        }
        _device?.Wait();
    }

    private void SumThroughHost(Tensor[] bucket)
    {
        int offset = 0;
        foreach (var tensor in bucket)
        {
            _backend.Download(tensor, _buffer.AsSpan(offset, (int)tensor.ElementCount));
            offset += (int)tensor.ElementCount;
        }
        _communicator.AllReduceSum(_buffer.AsSpan(0, offset));
        offset = 0;
        foreach (var tensor in bucket)
        {
            _backend.Upload(_buffer.AsSpan(offset, (int)tensor.ElementCount), tensor);
            offset += (int)tensor.ElementCount;
        }
    }

    private static IDeviceCollectives? DeviceCollectivesFor(Backend backend, ICommunicator communicator) =>
        communicator is IDeviceCollectives device && device.Serves(backend) ? device : null;
}
