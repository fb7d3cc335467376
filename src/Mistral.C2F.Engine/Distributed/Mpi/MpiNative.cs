using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Distributed.Mpi;

/// <summary>
/// The MPI calls the engine makes, as thin LibraryImport bindings to Open MPI's C library (<c>libmpi.so.40</c>, the soname
/// of Open MPI 4 and 5). Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_BYTE</c>, <c>MPI_FLOAT</c>, <c>MPI_DOUBLE</c>, <c>MPI_SUM</c>) are the addresses of
/// exported globals, found by name; <c>MPI_IN_PLACE</c> is the address 1. Every call returns an MPI error code (0 =
/// <c>MPI_SUCCESS</c>); with the default error handler an error aborts the job before it returns.
/// </summary>
internal static unsafe partial class MpiNative
{
    public const string LibraryFileName = "libmpi.so.40";
    private const string Library = LibraryFileName;

    public const int ThreadSerialized = 2;
    public static readonly nint InPlace = 1;

    /// <summary>The handles of <c>mpi.h</c>, resolved from the loaded library.</summary>
    public sealed record Handles(nint CommWorld, nint Byte, nint Float, nint Double, nint Sum)
    {
        public static Handles Resolve()
        {
            var library = NativeLibrary.Load(LibraryFileName, typeof(MpiNative).Assembly, null);
            nint Symbol(string name) => NativeLibrary.GetExport(library, name);
            return new Handles(Symbol("ompi_mpi_comm_world"), Symbol("ompi_mpi_byte"), Symbol("ompi_mpi_float"), Symbol("ompi_mpi_double"), Symbol("ompi_mpi_op_sum"));
        }
    }

    [LibraryImport(Library)] public static partial int MPI_Init_thread(nint argc, nint argv, int required, out int provided);
    [LibraryImport(Library)] public static partial int MPI_Finalized(out int flag);
    [LibraryImport(Library)] public static partial int MPI_Finalize();
    [LibraryImport(Library)] public static partial int MPI_Comm_rank(nint comm, out int rank);
    [LibraryImport(Library)] public static partial int MPI_Comm_size(nint comm, out int size);
    [LibraryImport(Library)] public static partial int MPI_Allreduce(nint send, void* receive, int count, nint type, nint op, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Reduce_scatter_block(void* send, void* receive, int receiveCount, nint type, nint op, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Allgather(void* send, int sendCount, nint sendType, void* receive, int receiveCount, nint receiveType, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Bcast(void* buffer, int count, nint type, int root, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Barrier(nint comm);
}
