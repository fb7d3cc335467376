using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Distributed.Mpi;
using Mistral.C2F.Engine.Tensors;
using static Mistral.C2F.Engine.Cuda.Nccl.NcclNative;

namespace Mistral.C2F.Engine.Cuda.Nccl;

/// <summary>
/// A job's communicator with NCCL for one CUDA backend's buffers, as PyTorch's NCCL process group and llm.c's multi-GPU
/// path set it up: rank 0 draws NCCL's unique id, the host communicator broadcasts it (MPI; a one-rank job needs none),
/// and every rank joins one NCCL communicator on its GPU. Device tensors are summed in place on the backend's stream,
/// one NCCL group per call, and <see cref="Wait"/> waits for them under the collective timeout, as a host collective
/// would be. Host buffers (ZeRO-1's rounds, rollouts, metrics) still go through the host communicator. Disposing
/// destroys the NCCL communicator, or aborts it when collectives may still be in flight; the host communicator stays
/// the caller's.
/// </summary>
public sealed class NcclCommunicator : ICommunicator, IDeviceCollectives
{
    private const string AllReduceCall = "ncclAllReduce";

    private readonly ICommunicator _host;
    private readonly CudaBackend _backend;
    private readonly CudaDriverDevice _gpu;
    private readonly nint _comm;
    private readonly CollectiveWatchdog _watchdog;
    private bool _inFlight, _failed, _disposed;

    private NcclCommunicator(ICommunicator host, CudaBackend backend, CudaDriverDevice gpu, nint comm, CollectiveWatchdog watchdog) =>
        (_host, _backend, _gpu, _comm, _watchdog) = (host, backend, gpu, comm, watchdog);

    /// <summary>
    /// Joins NCCL on <paramref name="backend"/>'s GPU with the ranks of <paramref name="host"/>; every rank calls it at the
    /// same point. Throws, naming the library or the failed call, when NCCL cannot be loaded or joined.
    /// </summary>
    public static NcclCommunicator Create(ICommunicator host, CudaBackend backend)
    {
        var gpu = backend.Gpu ?? throw new ArgumentException($"NCCL sums a GPU's buffers; backend '{backend.Name}' runs on the CPU emulator");
        NcclLibrary.Require();
        gpu.MakeCurrent();  // NCCL takes the device of the current context
        var id = NcclUniqueId.Share(host, () =>
        {
            Check(ncclGetUniqueId(out var drawn), "ncclGetUniqueId");
            return drawn;
        });
        var watchdog = new CollectiveWatchdog(host.Rank, CollectiveWatchdog.TimeoutFromEnvironment());
        try
        {
            nint comm = 0;
            // Every rank waits in the init until all have joined: bounded like any collective.
            Check(watchdog.Run("ncclCommInitRank", () => ncclCommInitRank(out comm, host.Size, id, host.Rank)), "ncclCommInitRank");
            return new NcclCommunicator(host, backend, gpu, comm, watchdog);
        }
        catch
        {
            watchdog.Dispose();
            throw;
        }
    }

    public int Rank => _host.Rank;
    public int Size => _host.Size;

    /// <summary>NCCL all-reduces queued so far (one per tensor), for reports and tests.</summary>
    public long AllReduces { get; private set; }

    public bool Serves(Backend backend) => ReferenceEquals(backend, _backend);

    public void AllReduceSum(IReadOnlyList<Tensor> tensors)
    {
        var buffers = tensors.Select(t => (Address: _backend.CollectiveAddress(t, AllReduceCall), t.ElementCount)).ToArray();
        // One group: NCCL fuses the bucket's all-reduces into few launches.
        Check(ncclGroupStart(), "ncclGroupStart");
        try
        {
            foreach (var (address, count) in buffers) AllReduceSum(address, address, count);
        }
        finally
        {
            Check(ncclGroupEnd(), "ncclGroupEnd");
        }
    }

    /// <summary>Queues <paramref name="count"/> float32 elements at <paramref name="receive"/> = their sum over the ranks of those at <paramref name="send"/>.</summary>
    internal void AllReduceSum(ulong send, ulong receive, long count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ThrowIfAsyncError();
        _gpu.MakeCurrent();
        _inFlight = true;
        Check(ncclAllReduce(send, receive, (nuint)count, Float32, NcclNative.Sum, _comm, _gpu.Stream), AllReduceCall);
        AllReduces++;
    }

    public void Wait()
    {
        if (!_inFlight) return;
        _watchdog.Run(AllReduceCall, () =>
        {
            _backend.WaitForDevice();
            return 0;
        });
        ThrowIfAsyncError();
        _inFlight = false;
    }

    /// <summary>An error NCCL met after a call returned (a peer that failed, a network error) surfaces here.</summary>
    private void ThrowIfAsyncError()
    {
        Check(ncclCommGetAsyncError(_comm, out int error), "ncclCommGetAsyncError");
        if (error == 0) return;
        _failed = true;
        throw Error(error, $"{AllReduceCall} (reported asynchronously)");
    }

    public void AllReduceSum(Span<float> values) => _host.AllReduceSum(values);

    public void AllReduceSum(Span<double> values) => _host.AllReduceSum(values);

    public void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> share) => _host.ReduceScatterSum(values, share);

    public void AllGather(ReadOnlySpan<float> share, Span<float> values) => _host.AllGather(share, values);

    public void AllGather(ReadOnlySpan<double> share, Span<double> values) => _host.AllGather(share, values);

    public void Broadcast(Span<byte> values, int root) => _host.Broadcast(values, root);

    public void Barrier() => _host.Barrier();

    /// <summary>
    /// Releases the NCCL communicator: destroyed after a clean wait, aborted when a collective may still run or failed
    /// (destroying would wait for peers that may never come). Results are not checked: releasing is all that is left.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _watchdog.Dispose();
        if (_inFlight || _failed) ncclCommAbort(_comm);
        else ncclCommDestroy(_comm);
    }
}
