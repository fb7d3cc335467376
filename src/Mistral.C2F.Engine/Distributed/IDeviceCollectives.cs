using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Distributed;

/// <summary>
/// Collectives on a device backend's own buffers (NCCL on a GPU), beside a communicator's host collectives, as PyTorch's
/// process groups reduce a tensor where it lives. A communicator that implements it sums the tensors of the backend it
/// <see cref="Serves"/> with no host round trip; every other backend's go through host memory.
/// </summary>
public interface IDeviceCollectives
{
    /// <summary>Whether <paramref name="backend"/>'s tensors are the ones this sums.</summary>
    bool Serves(Backend backend);

    /// <summary>
    /// Every float32 tensor becomes, in place, its element-wise sum over the ranks: queued behind the backend's earlier
    /// launches and ahead of its later ones, without waiting. Every rank calls it at the same point with tensors of the
    /// same shapes.
    /// </summary>
    void AllReduceSum(IReadOnlyList<Tensor> tensors);

    /// <summary>
    /// Returns once every collective queued so far is done, reporting a failed one; past the collective timeout (a rank
    /// that stopped) it ends the job, as a host collective does.
    /// </summary>
    void Wait();
}
