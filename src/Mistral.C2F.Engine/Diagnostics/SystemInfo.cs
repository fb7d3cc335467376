using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Mistral.C2F.Engine.Diagnostics;

/// <summary>What this machine offers the engine: CPU model and SIMD features, threads, and a CUDA GPU if any.</summary>
public sealed record SystemInfo(string CpuModel, int Threads, IReadOnlyList<(string Name, bool Supported)> CpuFeatures, int VectorBits, string Gpu)
{
    public static SystemInfo Detect() => new(ReadCpuModel(), Environment.ProcessorCount,
    [
        ("SSE4.2", Sse42.IsSupported), ("AVX2", Avx2.IsSupported), ("FMA", Fma.IsSupported),
        ("AVX-512F", Avx512F.IsSupported), ("AVX-512BW", Avx512BW.IsSupported), ("AVX-512VL", Avx512F.VL.IsSupported),
        ("AVX-VNNI", AvxVnni.IsSupported), ("Vector512 accelerated", Vector512.IsHardwareAccelerated),
    ], Vector<float>.Count * 32, QueryGpu());

    private static string ReadCpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (File.Exists(cpuinfo))
        {
            var line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    // Asks the CUDA driver directly; no toolkit is needed, only the driver library that ships with the GPU driver.
    private static unsafe string QueryGpu()
    {
        string library = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(library, out var handle)) return $"none ({library} not found)";
        var init = (delegate* unmanaged<uint, int>)NativeLibrary.GetExport(handle, "cuInit");
        var count = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(handle, "cuDeviceGetCount");
        var name = (delegate* unmanaged<byte*, int, int, int>)NativeLibrary.GetExport(handle, "cuDeviceGetName");
        int devices = 0, status = init(0);
        if (status != 0) return $"CUDA driver present, cuInit failed with error {status}";
        count(&devices);
        var names = new List<string>();
        var buffer = stackalloc byte[256];
        for (int d = 0; d < devices; d++)
            names.Add(name(buffer, 256, d) == 0 ? Encoding.ASCII.GetString(buffer, new Span<byte>(buffer, 256).IndexOf((byte)0)) : $"device {d}");
        return devices == 0 ? "CUDA driver present, no devices" : string.Join(", ", names);
    }
}
