using System.Reflection;
using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Cuda.Driver;
using Mistral.C2F.Engine.Cuda.Nccl;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// Resolves the short names this assembly's LibraryImports use to the files installs provide: "cuda" to the driver's
/// <c>libcuda.so.1</c> / <c>nvcuda.dll</c> (the default probing would look for <c>libcuda.so</c>, which only a toolkit
/// install has), "nccl" to the <c>libnccl.so.2</c> that <see cref="NcclLibrary"/> found. One resolver per assembly is all
/// .NET allows, so both bindings register this one before their first call.
/// </summary>
internal static class NativeLibraries
{
    public const string CudaDriver = "cuda", Nccl = "nccl";

    private static int s_registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
    }

    /// <summary>The handle of a library named here; 0 lets the runtime probe as usual (the emulator's library).</summary>
    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name switch
    {
        CudaDriver => NativeLibrary.TryLoad(CudaDriverApi.LibraryFileName, assembly, path, out var handle) ? handle : 0,
        Nccl => NcclLibrary.Process.Handle,
        _ => 0,
    };
}
