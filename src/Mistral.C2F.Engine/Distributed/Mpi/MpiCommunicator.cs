namespace Mistral.C2F.Engine.Distributed.Mpi;

/// <summary>
/// <see cref="ICommunicator"/> over <c>MPI_COMM_WORLD</c> through Open MPI: the processes <c>mpirun</c> started. MPI is
/// initialised once per process (serialized threads: the trainer calls from one thread at a time) and finalised on
/// dispose. Buffers longer than an MPI count (2³¹ − 1 elements) go in chunks, each chunk a collective of its own.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>Elements per collective call: MPI counts are 32-bit.</summary>
    private const int MaxChunk = 1 << 30;

    private readonly MpiNative.Handles _handles;
    private bool _disposed;

    private MpiCommunicator(MpiNative.Handles handles, int rank, int size) => (_handles, Rank, Size) = (handles, rank, size);

    public int Rank { get; }
    public int Size { get; }

    /// <summary>Initialises MPI in this process (started by mpirun) and joins <c>MPI_COMM_WORLD</c>.</summary>
    public static MpiCommunicator Initialize()
    {
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
        return new MpiCommunicator(handles, rank, size);
    }

    public void AllReduceSum(Span<float> values)
    {
        fixed (float* p = values)
            for (long start = 0; start < values.Length; start += MaxChunk)
                Check(MpiNative.MPI_Allreduce(MpiNative.InPlace, p + start, Chunk(values.Length, start), _handles.Float, _handles.Sum, _handles.CommWorld),
                    "MPI_Allreduce");
    }

    public void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values)
            for (long start = 0; start < values.Length; start += MaxChunk)
                Check(MpiNative.MPI_Allreduce(MpiNative.InPlace, p + start, Chunk(values.Length, start), _handles.Double, _handles.Sum, _handles.CommWorld),
                    "MPI_Allreduce");
    }

    public void Barrier() => Check(MpiNative.MPI_Barrier(_handles.CommWorld), "MPI_Barrier");

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (MpiNative.MPI_Finalized(out int finalized) == 0 && finalized == 0) MpiNative.MPI_Finalize();
    }

    private static int Chunk(long length, long start) => (int)Math.Min(MaxChunk, length - start);

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }
}
