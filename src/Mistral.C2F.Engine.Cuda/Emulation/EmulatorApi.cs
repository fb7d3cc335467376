using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Cuda.Emulation;

/// <summary>The C interface of the CPU emulator library (kernels/include/c2f/emu/c2f_emu.h).</summary>
internal static unsafe partial class EmulatorApi
{
    /// <summary>The library's name as the runtime resolves it: libc2f_cuda_emu.so (.dylib) next to the assemblies.</summary>
    public const string Library = "c2f_cuda_emu";

    [LibraryImport(Library, EntryPoint = "c2f_emu_launch", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Launch(string kernel, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint dynamicSharedBytes, void** parameters);

    [LibraryImport(Library, EntryPoint = "c2f_emu_last_error")]
    public static partial nint LastError();

    [LibraryImport(Library, EntryPoint = "c2f_emu_malloc")]
    public static partial nint Malloc(nuint bytes);

    [LibraryImport(Library, EntryPoint = "c2f_emu_free")]
    public static partial void Free(nint pointer);

    [LibraryImport(Library, EntryPoint = "c2f_emu_kernel_count")]
    public static partial int KernelCount();

    [LibraryImport(Library, EntryPoint = "c2f_emu_kernel_name")]
    public static partial nint KernelName(int index);

    /// <summary>The kernel's parameter kinds, one letter each (see c2f_emu.h), or 0 for an unknown name.</summary>
    [LibraryImport(Library, EntryPoint = "c2f_emu_kernel_signature", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint KernelSignature(string kernel);

    [LibraryImport(Library, EntryPoint = "c2f_emu_set_worker_threads")]
    public static partial void SetWorkerThreads(int count);

    /// <summary>Loads the library the way the imports above will, so its absence is a reason, not a DllNotFoundException later.</summary>
    public static bool TryLoad(out string reason)
    {
        var assembly = typeof(EmulatorApi).Assembly;
        var directory = Path.GetDirectoryName(assembly.Location) ?? ".";
        var built = Directory.GetFiles(directory, $"lib{Library}.*").FirstOrDefault();
        if (built is null)
            reason = $"the CPU emulator library lib{Library} is not in {directory} (the build makes it with g++ or clang++ " +
                     "on Linux and macOS; none was found, or this is Windows)";
        else if (IsAddressSanitizerBuild(built) && !(Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Contains("asan"))
            // Loaded anyway, the sanitizer's runtime would end the whole process ("does not come first").
            reason = $"{built} is an AddressSanitizer build: run the tests with LD_PRELOAD=$(g++ -print-file-name=libasan.so) " +
                     "ASAN_OPTIONS=detect_leaks=0 (kernels/README.md)";
        else if (NativeLibrary.TryLoad(Library, assembly, DllImportSearchPath.AssemblyDirectory, out _))
            reason = "";
        else
            reason = $"{built} does not load: {LoadError(built)}";
        return reason.Length == 0;
    }

    private static bool IsAddressSanitizerBuild(string library) => File.ReadAllBytes(library).AsSpan().IndexOf("__asan_init"u8) >= 0;

    private static string LoadError(string path)
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return "it loads by path but not by name";
        }
        catch (DllNotFoundException error)
        {
            return error.Message;
        }
    }
}
