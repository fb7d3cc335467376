using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Cuda.Nccl;

/// <summary>
/// The NCCL calls the engine makes, as thin LibraryImport bindings of <c>nccl.h</c> (blocking communicators, NCCL 2.4
/// or later): every call returns an <c>ncclResult_t</c> (0 = <c>ncclSuccess</c>), a communicator is an opaque pointer,
/// buffers are device addresses and the stream is the CUDA driver's stream handle (<c>cudaStream_t</c> is the same
/// pointer). The library is <see cref="NcclLibrary"/>'s; call <see cref="NcclLibrary.Require"/> before the first call.
/// </summary>
internal static unsafe partial class NcclNative
{
    private const string Library = NativeLibraries.Nccl;

    /// <summary><c>ncclFloat32</c> of <c>ncclDataType_t</c>.</summary>
    public const int Float32 = 7;

    /// <summary><c>ncclSum</c> of <c>ncclRedOp_t</c>.</summary>
    public const int Sum = 0;

    static NcclNative() => NativeLibraries.Register();

    [LibraryImport(Library)] public static partial int ncclGetVersion(out int version);
    [LibraryImport(Library)] public static partial int ncclGetUniqueId(out NcclUniqueId uniqueId);
    [LibraryImport(Library)] public static partial int ncclCommInitRank(out nint comm, int ranks, NcclUniqueId commId, int rank);
    [LibraryImport(Library)] public static partial int ncclCommDestroy(nint comm);
    [LibraryImport(Library)] public static partial int ncclCommAbort(nint comm);
    [LibraryImport(Library)] public static partial int ncclCommGetAsyncError(nint comm, out int asyncError);
    [LibraryImport(Library)] public static partial nint ncclGetErrorString(int result);
    [LibraryImport(Library)] public static partial int ncclGroupStart();
    [LibraryImport(Library)] public static partial int ncclGroupEnd();

    [LibraryImport(Library)]
    public static partial int ncclAllReduce(ulong send, ulong receive, nuint count, int dataType, int op, nint comm, nint stream);

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> and NCCL's error unless <paramref name="result"/> is ncclSuccess.</summary>
    public static void Check(int result, string call)
    {
        if (result != 0) throw Error(result, call);
    }

    public static CudaException Error(int result, string call) =>
        new(call, ResultName(result), Marshal.PtrToStringUTF8(ncclGetErrorString(result)) ?? "");

    /// <summary>The name of an <c>ncclResult_t</c>, as nccl.h spells it.</summary>
    public static string ResultName(int result) => result switch
    {
        0 => "ncclSuccess",
        1 => "ncclUnhandledCudaError",
        2 => "ncclSystemError",
        3 => "ncclInternalError",
        4 => "ncclInvalidArgument",
        5 => "ncclInvalidUsage",
        6 => "ncclRemoteError",
        7 => "ncclInProgress",
        _ => $"ncclResult_t {result}",
    };
}
