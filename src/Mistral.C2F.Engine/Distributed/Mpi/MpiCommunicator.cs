using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Distributed.Mpi;

/// <summary>
/// <see cref="ICommunicator"/> over <c>MPI_COMM_WORLD</c> through Open MPI: the processes <c>mpirun</c> started. MPI is
/// initialised once per process (serialized threads: the trainer calls from one thread at a time) and finalised on
/// dispose. All-reduce buffers longer than an MPI count (2³¹ − 1 elements) go in chunks, each chunk a collective of its
/// own; a block of a reduce-scatter or an all-gather is an int-sized span already, callers bound it. Every
/// collective runs under a <see cref="CollectiveWatchdog"/>: a rank that hangs ends the job within its bound.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>Elements per collective call: MPI counts are 32-bit.</summary>
    private const int MaxChunk = 1 << 30;

    private readonly MpiNative.Handles _handles;
    private const string LocalSizeVariable = "OMPI_COMM_WORLD_LOCAL_SIZE";

    private readonly CollectiveWatchdog _watchdog;
    private CollectiveProgress? _progress;
    private bool _disposed;

    private MpiCommunicator(MpiNative.Handles handles, int rank, int size, TimeSpan timeout) =>
        (_handles, Rank, Size, _watchdog) = (handles, rank, size, new CollectiveWatchdog(rank, timeout));

    public int Rank { get; }
    public int Size { get; }

    /// <summary>Initialises MPI in this process (started by mpirun) and joins <c>MPI_COMM_WORLD</c>.</summary>
    public static MpiCommunicator Initialize()
    {
        var timeout = CollectiveWatchdog.TimeoutFromEnvironment();
        MpiNative.Handles handles;
        try
        {
            handles = MpiNative.Handles.Resolve();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException($"this process was started by mpirun, but Open MPI's {MpiNative.LibraryFileName} could not be " +
                $"loaded ({e.Message}); install Open MPI (Debian: openmpi-bin)", e);
        }
        Check(MpiNative.MPI_Init_thread(0, 0, MpiNative.ThreadSerialized, out int provided), "MPI_Init_thread");
        if (provided < MpiNative.ThreadSerialized)
            throw new InvalidOperationException($"Open MPI gives thread level {provided}; the engine needs MPI_THREAD_SERIALIZED ({MpiNative.ThreadSerialized})");
        Check(MpiNative.MPI_Comm_rank(handles.CommWorld, out int rank), "MPI_Comm_rank");
        Check(MpiNative.MPI_Comm_size(handles.CommWorld, out int size), "MPI_Comm_size");
        var communicator = new MpiCommunicator(handles, rank, size, timeout);
        communicator.TrackProgress();
        return communicator;
    }

    /// <summary>
    /// Where every rank runs on this machine (Open MPI's local size is the world's), a shared board of each rank's count
    /// of collectives, named by an id rank 0 draws, so that a rank left waiting names the ones that stopped.
    /// </summary>
    private void TrackProgress()
    {
        if (Environment.GetEnvironmentVariable(LocalSizeVariable) != Size.ToString(System.Globalization.CultureInfo.InvariantCulture)) return;
        long id = Rank == 0 ? Random.Shared.NextInt64() : 0;
        Broadcast(MemoryMarshal.AsBytes(new Span<long>(ref id)), root: 0);
        var directory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _progress = CollectiveProgress.Open(directory, id, Rank, Size, Barrier);
        _watchdog.Track(_progress);
    }

    public void AllReduceSum(Span<float> values)
    {
        fixed (float* p = values) AllReduceSum(p, values.Length, sizeof(float), _handles.Float);
    }

    public void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values) AllReduceSum(p, values.Length, sizeof(double), _handles.Double);
    }

    public void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> share)
    {
        int count = BlockCount(share.Length, values.Length, "MPI_Reduce_scatter_block");
        fixed (float* send = values)
        fixed (float* receive = share)
        {
            (nint s, nint r) = ((nint)send, (nint)receive);
            Check(_watchdog.Run("MPI_Reduce_scatter_block", () => MpiNative.MPI_Reduce_scatter_block((void*)s, (void*)r, count, _handles.Float, _handles.Sum, _handles.CommWorld)),
                "MPI_Reduce_scatter_block");
        }
    }

    public void AllGather(ReadOnlySpan<float> share, Span<float> values)
    {
        fixed (float* send = share)
        fixed (float* receive = values) AllGather(send, receive, BlockCount(share.Length, values.Length, "MPI_Allgather"), _handles.Float);
    }

    public void AllGather(ReadOnlySpan<double> share, Span<double> values)
    {
        fixed (double* send = share)
        fixed (double* receive = values) AllGather(send, receive, BlockCount(share.Length, values.Length, "MPI_Allgather"), _handles.Double);
    }

    public void Broadcast(Span<byte> values, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        fixed (byte* p = values)
        {
            nint buffer = (nint)p;
            int count = values.Length;
            Check(_watchdog.Run("MPI_Bcast", () => MpiNative.MPI_Bcast((void*)buffer, count, _handles.Byte, root, _handles.CommWorld)), "MPI_Bcast");
        }
    }

    public void Barrier() => Check(_watchdog.Run("MPI_Barrier", () => MpiNative.MPI_Barrier(_handles.CommWorld)), "MPI_Barrier");

    private void AllReduceSum(void* values, long length, int elementBytes, nint type)
    {
        for (long start = 0; start < length; start += MaxChunk)
        {
            nint chunk = (nint)((byte*)values + start * elementBytes);
            int count = Chunk(length, start);
            Check(_watchdog.Run("MPI_Allreduce", () => MpiNative.MPI_Allreduce(MpiNative.InPlace, (void*)chunk, count, type, _handles.Sum, _handles.CommWorld)),
                "MPI_Allreduce");
        }
    }

    private void AllGather(void* send, void* receive, int count, nint type)
    {
        (nint s, nint r) = ((nint)send, (nint)receive);
        Check(_watchdog.Run("MPI_Allgather", () => MpiNative.MPI_Allgather((void*)s, count, type, (void*)r, count, type, _handles.CommWorld)), "MPI_Allgather");
    }

    /// <summary>The per-rank count of a block collective: whole = Size blocks of share, and one MPI count.</summary>
    private int BlockCount(int share, int whole, string call)
    {
        Blocks.Require(share, whole, Size, call);
        return share;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _watchdog.Dispose();
        _progress?.Dispose();
        if (MpiNative.MPI_Finalized(out int finalized) == 0 && finalized == 0) MpiNative.MPI_Finalize();
    }

    private static int Chunk(long length, long start) => (int)Math.Min(MaxChunk, length - start);

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }
}
