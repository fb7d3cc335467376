using System.Reflection;
using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Cuda.Nccl;

/// <summary>
/// NCCL's library, found once per process: the file <see cref="PathVariable"/> names, else <see cref="FileName"/> by the
/// loader's search (LD_LIBRARY_PATH, ldconfig's cache). PyTorch's pip install ships it as
/// <c>site-packages/nvidia/nccl/lib/libnccl.so.2</c>, on no search path: name that file. Not finding it is an answer
/// with its reason, not an exception, so a caller can choose the host path or skip a test, saying why.
/// </summary>
public static class NcclLibrary
{
    public const string FileName = "libnccl.so.2";
    public const string PathVariable = "C2F_NCCL_LIBRARY";

    /// <summary>The library handle (0 when not loaded) and, when not loaded, why.</summary>
    internal sealed record Loaded(nint Handle, string Problem);

    private static readonly Lazy<Loaded> s_process = new(() => Load(Environment.GetEnvironmentVariable(PathVariable)));

    /// <summary>This process's load, as <see cref="PathVariable"/> stood when NCCL was first asked for.</summary>
    internal static Loaded Process => s_process.Value;

    /// <summary>Whether NCCL loads in this process; if not, why.</summary>
    public static bool TryLoad(out string problem)
    {
        problem = Process.Problem;
        return Process.Handle != 0;
    }

    /// <summary>Throws, naming the library and how to point at it, unless NCCL loads.</summary>
    public static void Require()
    {
        if (!TryLoad(out var problem)) throw new DllNotFoundException(problem);
    }

    /// <summary>The loaded library's version, e.g. "2.27.3".</summary>
    public static string Version
    {
        get
        {
            Require();
            NcclNative.Check(NcclNative.ncclGetVersion(out int code), "ncclGetVersion");
            return VersionText(code);
        }
    }

    /// <summary>
    /// nccl.h's NCCL_VERSION_CODE in words: major·1000 + minor·100 + patch up to 2.8, major·10000 + minor·100 + patch
    /// from 2.9 on (2.8.4 is 2804, 2.21.5 is 22105).
    /// </summary>
    public static string VersionText(int code) => code < 10000
        ? $"{code / 1000}.{code / 100 % 10}.{code % 100}"
        : $"{code / 10000}.{code / 100 % 100}.{code % 100}";

    /// <summary>What the loader said last (dlerror: "…: cannot open shared object file: …"), without .NET's advice around it.</summary>
    private static string LoaderError(DllNotFoundException e) =>
        e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(line => line.Length > 1).LastOrDefault() ?? e.Message;

    /// <summary>Loads <paramref name="configuredPath"/> (a value of <see cref="PathVariable"/>), or <see cref="FileName"/> when it is empty.</summary>
    internal static Loaded Load(string? configuredPath)
    {
        bool configured = !string.IsNullOrEmpty(configuredPath);
        nint handle;
        try
        {
            handle = configured
                ? NativeLibrary.Load(configuredPath!)
                : NativeLibrary.Load(FileName, typeof(NcclLibrary).Assembly, null);
        }
        catch (DllNotFoundException e)
        {
            return new Loaded(0, configured
                ? $"{PathVariable}={configuredPath}: NCCL's library cannot be loaded ({LoaderError(e)})"
                : $"{FileName} not found on the loader's path (LD_LIBRARY_PATH, the ldconfig cache); set {PathVariable} to its path " +
                  $"(PyTorch's pip install ships it as site-packages/nvidia/nccl/lib/{FileName})");
        }
        string problem = ExportProblem(configured ? $"{PathVariable}={configuredPath}" : FileName,
            export => NativeLibrary.TryGetExport(handle, export, out _), () => VersionOf(handle));
        if (problem == "") return new Loaded(handle, "");
        NativeLibrary.Free(handle);
        return new Loaded(0, problem);
    }

    /// <summary>Every NCCL function the engine calls (<see cref="NcclNative"/>'s bindings): all of them are in NCCL 2.4 and later.</summary>
    internal static IReadOnlyList<string> Exports { get; } = typeof(NcclNative).GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Where(method => method.IsDefined(typeof(LibraryImportAttribute)))
        .Select(method => method.GetCustomAttribute<LibraryImportAttribute>()!.EntryPoint ?? method.Name).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Why a loaded library cannot serve the engine ("" when it can): not NCCL at all, or an NCCL without some function
    /// the engine calls, which would otherwise fail at its first call, mid-run, with the runtime's EntryPointNotFoundException.
    /// </summary>
    internal static string ExportProblem(string library, Func<string, bool> exports, Func<string> version)
    {
        if (!exports("ncclGetVersion")) return $"{library} loads but is not NCCL: it has no ncclGetVersion";
        var missing = Exports.Where(export => !exports(export)).ToArray();
        return missing.Length == 0 ? ""
            : $"{library} is NCCL {version()}, which lacks {string.Join(", ", missing)}: the engine needs NCCL 2.4 or later";
    }

    /// <summary>The version of a library that exports ncclGetVersion, asked through its address (the bindings resolve to this process's load).</summary>
    private static unsafe string VersionOf(nint handle)
    {
        var getVersion = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(handle, "ncclGetVersion");
        int code;
        return getVersion(&code) == 0 ? VersionText(code) : "of unknown version";
    }
}
