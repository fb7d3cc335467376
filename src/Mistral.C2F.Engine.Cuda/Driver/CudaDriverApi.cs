using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Cuda.Driver;

/// <summary>
/// The CUDA driver API calls the engine makes, as thin LibraryImport bindings (no ManagedCuda, no ILGPU
/// CudaAPI): every call returns a CUresult (0 = CUDA_SUCCESS), handles are opaque pointers, device
/// addresses are 64-bit. The versioned entry points (_v2) are those cuda.h maps the plain names to.
/// </summary>
internal static unsafe partial class CudaDriverApi
{
    private const string Library = NativeLibraries.CudaDriver;

    /// <summary>The driver library as the platform's driver install names it (no toolkit needed).</summary>
    public static string LibraryFileName => OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";

    public const int MultiprocessorCount = 16;
    public const int ComputeCapabilityMajor = 75;
    public const int ComputeCapabilityMinor = 76;
    public const int MaxSharedMemoryPerBlockOptin = 97;
    public const int FunctionMaxDynamicSharedBytes = 8;
    public const int JitErrorLogBuffer = 5;
    public const int JitErrorLogBufferSizeBytes = 6;
    public const int ErrorOutOfMemory = 2;

    // Set before the first call into the driver.
    static CudaDriverApi() => NativeLibraries.Register();

    /// <summary>False when the driver library is not installed: the machine has no NVIDIA driver.</summary>
    public static bool DriverInstalled()
    {
        if (!NativeLibrary.TryLoad(LibraryFileName, typeof(CudaDriverApi).Assembly, null, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }

    [LibraryImport(Library)] public static partial int cuInit(uint flags);
    [LibraryImport(Library)] public static partial int cuGetErrorName(int error, out nint name);
    [LibraryImport(Library)] public static partial int cuGetErrorString(int error, out nint text);

    [LibraryImport(Library)] public static partial int cuDeviceGetCount(out int count);
    [LibraryImport(Library)] public static partial int cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Library)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Library)] public static partial int cuDeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport(Library)] public static partial int cuDevicePrimaryCtxRetain(out nint context, int device);
    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRelease_v2")] public static partial int cuDevicePrimaryCtxRelease(int device);
    [LibraryImport(Library)] public static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(Library)] public static partial int cuModuleLoadDataEx(out nint module, byte* image, uint optionCount, int* options, void** optionValues);
    [LibraryImport(Library)] public static partial int cuModuleUnload(nint module);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] public static partial int cuModuleGetFunction(out nint function, nint module, string name);
    [LibraryImport(Library)] public static partial int cuFuncSetAttribute(nint function, int attribute, int value);

    [LibraryImport(Library)]
    public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, nint stream, void** kernelParams, void** extra);

    [LibraryImport(Library)] public static partial int cuStreamCreate(out nint stream, uint flags);
    [LibraryImport(Library, EntryPoint = "cuStreamDestroy_v2")] public static partial int cuStreamDestroy(nint stream);
    [LibraryImport(Library)] public static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(Library, EntryPoint = "cuMemAlloc_v2")] public static partial int cuMemAlloc(out ulong address, nuint bytes);
    [LibraryImport(Library, EntryPoint = "cuMemFree_v2")] public static partial int cuMemFree(ulong address);
    [LibraryImport(Library, EntryPoint = "cuMemGetInfo_v2")] public static partial int cuMemGetInfo(out nuint free, out nuint total);
    [LibraryImport(Library, EntryPoint = "cuMemcpyHtoD_v2")] public static partial int cuMemcpyHtoD(ulong destination, void* source, nuint bytes);
    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoH_v2")] public static partial int cuMemcpyDtoH(void* destination, ulong source, nuint bytes);
    [LibraryImport(Library, EntryPoint = "cuMemsetD32_v2")] public static partial int cuMemsetD32(ulong destination, uint value, nuint count);

    [LibraryImport(Library)] public static partial int cuEventCreate(out nint cuEvent, uint flags);
    [LibraryImport(Library)] public static partial int cuEventRecord(nint cuEvent, nint stream);
    [LibraryImport(Library)] public static partial int cuEventSynchronize(nint cuEvent);
    [LibraryImport(Library)] public static partial int cuEventElapsedTime(out float milliseconds, nint start, nint end);
    [LibraryImport(Library, EntryPoint = "cuEventDestroy_v2")] public static partial int cuEventDestroy(nint cuEvent);

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> and the driver's error unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public static void Check(int result, string call, string detail = "")
    {
        if (result != 0) throw Error(result, call, detail);
    }

    public static CudaException Error(int result, string call, string detail = "")
    {
        var name = cuGetErrorName(result, out var namePointer) == 0 ? Marshal.PtrToStringUTF8(namePointer) : null;
        var text = cuGetErrorString(result, out var textPointer) == 0 ? Marshal.PtrToStringUTF8(textPointer) : null;
        var meaning = string.Join("; ", new[] { text, detail }.Where(part => !string.IsNullOrEmpty(part)));
        return new CudaException(call, name ?? $"CUresult {result}", meaning);
    }
}
