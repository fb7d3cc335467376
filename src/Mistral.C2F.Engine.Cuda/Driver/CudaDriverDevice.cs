using System.Runtime.InteropServices;
using System.Text;
using static Mistral.C2F.Engine.Cuda.Driver.CudaDriverApi;

namespace Mistral.C2F.Engine.Cuda.Driver;

/// <summary>
/// A CUDA GPU through the driver API: the primary context of one device, one stream that every launch goes
/// to, and the embedded PTX of the best architecture the device runs, each module loaded when one of its
/// kernels is first launched. Copies are synchronous; a download first waits for the launches before it.
/// </summary>
public sealed unsafe class CudaDriverDevice : IKernelDevice
{
    /// <summary>Dynamic shared memory a kernel gets without raising its limit (cuFuncSetAttribute).</summary>
    private const int DefaultDynamicSharedLimit = 48 * 1024;

    private readonly int _device;
    private readonly nint _context;
    private readonly nint _stream;
    private readonly int _architecture;
    private readonly Dictionary<string, string> _kernelModules;
    private readonly Dictionary<string, nint> _modules = [];
    private readonly Dictionary<string, KernelFunction> _functions = [];
    private readonly DeviceAllocations _memory = new();
    private string? _lastKernel;
    private bool _disposed;

    private sealed class KernelFunction(nint handle)
    {
        public nint Handle { get; } = handle;

        public int DynamicSharedLimit { get; set; } = DefaultDynamicSharedLimit;
    }

    private CudaDriverDevice(int device, int computeCapability, int architecture)
    {
        _device = device;
        ComputeCapability = computeCapability;
        _architecture = architecture;
        _kernelModules = PtxLibrary.Embedded.KernelModules(architecture);
        Check(cuDeviceGetAttribute(out var multiprocessors, MultiprocessorCount, device), "cuDeviceGetAttribute");
        Multiprocessors = multiprocessors;
        Check(cuDevicePrimaryCtxRetain(out _context, device), "cuDevicePrimaryCtxRetain");
        MakeCurrent();
        Check(cuStreamCreate(out _stream, 0), "cuStreamCreate");
        Name = $"{DeviceName(device)} (compute capability {computeCapability / 10}.{computeCapability % 10}, PTX sm_{architecture})";
    }

    /// <summary>
    /// The GPU of <paramref name="ordinal"/>, or null with the reason there is none to use: no driver, no
    /// device, no PTX embedded (built without nvcc), or a device older than the oldest embedded architecture.
    /// </summary>
    public static CudaDriverDevice? TryCreate(out string reason, int ordinal = 0)
    {
        reason = "";
        if (!DriverInstalled())
        {
            reason = $"no CUDA driver ({LibraryFileName} is not installed)";
            return null;
        }
        var ptx = PtxLibrary.Embedded;
        if (ptx.Architectures.Count == 0)
        {
            reason = "built without nvcc: no PTX embedded";
            return null;
        }
        try
        {
            Check(cuInit(0), "cuInit");
            Check(cuDeviceGetCount(out var count), "cuDeviceGetCount");
            if (ordinal >= count)
            {
                reason = count == 0 ? "the CUDA driver sees no device" : $"device {ordinal} asked; the driver sees {count}";
                return null;
            }
            Check(cuDeviceGet(out var device, ordinal), "cuDeviceGet");
            Check(cuDeviceGetAttribute(out var major, ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
            Check(cuDeviceGetAttribute(out var minor, ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
            var computeCapability = major * 10 + minor;
            if (ptx.BestArchitecture(computeCapability) is { } architecture) return new CudaDriverDevice(device, computeCapability, architecture);
            reason = $"compute capability {major}.{minor} is older than the oldest embedded PTX (sm_{ptx.Architectures[0]})";
            return null;
        }
        catch (CudaException error)
        {
            reason = error.Message;
            return null;
        }
    }

    public string Name { get; }

    /// <summary>major·10 + minor, e.g. 90 for an H100.</summary>
    public int ComputeCapability { get; }

    public int Multiprocessors { get; }

    public DeviceBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        MakeCurrent();
        var result = cuMemAlloc(out var address, (nuint)Math.Max(bytes, 1));
        if (result == ErrorOutOfMemory && cuMemGetInfo(out var free, out var total) == 0)
            throw Error(result, "cuMemAlloc_v2", $"{bytes:N0} bytes asked; {free:N0} of {total:N0} bytes free");
        Check(result, "cuMemAlloc_v2", $"{bytes:N0} bytes asked");
        _memory.Add(address, bytes);
        return new DeviceBuffer(address, bytes, Free);
    }

    private void Free(ulong address)
    {
        if (!_memory.Remove(address)) return;
        MakeCurrent();
        Check(cuMemFree(address), "cuMemFree_v2");
    }

    public void Upload<T>(ReadOnlySpan<T> source, ulong destination) where T : unmanaged
    {
        var bytes = (long)source.Length * sizeof(T);
        _memory.CheckRange(destination, bytes, "upload");
        MakeCurrent();
        fixed (T* host = source) Check(cuMemcpyHtoD(destination, host, (nuint)bytes), "cuMemcpyHtoD_v2");
    }

    public void Download<T>(ulong source, Span<T> destination) where T : unmanaged
    {
        var bytes = (long)destination.Length * sizeof(T);
        _memory.CheckRange(source, bytes, "download");
        Synchronize();
        fixed (T* host = destination) Check(cuMemcpyDtoH(host, source, (nuint)bytes), "cuMemcpyDtoH_v2");
    }

    public void Fill32(ulong destination, uint value, long count)
    {
        _memory.CheckRange(destination, count * sizeof(uint), "fill");
        MakeCurrent();
        Check(cuMemsetD32(destination, value, (nuint)count), "cuMemsetD32_v2");
    }

    public void Launch(string kernel, LaunchShape shape, params KernelArg[] args)
    {
        shape.Validate(kernel);
        MakeCurrent();
        var function = Function(kernel, shape.DynamicSharedBytes);
        var values = stackalloc ulong[args.Length];
        var pointers = stackalloc void*[args.Length];
        KernelArg.Pack(args, values, pointers);
        var (grid, block) = (shape.Grid, shape.Block);
        Check(cuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, (uint)shape.DynamicSharedBytes, _stream, pointers, null),
            kernel, shape.ToString());
        _lastKernel = kernel;
    }

    /// <summary>Waits for the stream; a fault of a kernel surfaces here, named with the last kernel launched.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        Check(cuStreamSynchronize(_stream), _lastKernel is null ? "cuStreamSynchronize" : $"cuStreamSynchronize after {_lastKernel}");
    }

    /// <summary>The stream every launch goes to: a library joining the launches' order (NCCL) queues its work there.</summary>
    internal nint Stream => _stream;

    /// <summary>A pair of events on this device's stream, for timing launches on the device's clock.</summary>
    public DeviceTimer CreateTimer() => new(this, _stream);

    /// <summary>A context is current per thread; tests and callers may reach the device from several threads in turn.</summary>
    internal void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check(cuCtxSetCurrent(_context), "cuCtxSetCurrent");
    }

    private nint Function(string kernel, int dynamicSharedBytes)
    {
        if (!_functions.TryGetValue(kernel, out var function))
        {
            if (!_kernelModules.TryGetValue(kernel, out var module))
                throw new CudaException(kernel, "unknown kernel", $"no kernel of this name in the embedded PTX for sm_{_architecture}");
            Check(cuModuleGetFunction(out var handle, Module(module), kernel), $"cuModuleGetFunction({kernel})");
            _functions[kernel] = function = new KernelFunction(handle);
        }
        if (dynamicSharedBytes > function.DynamicSharedLimit)
        {
            var result = cuFuncSetAttribute(function.Handle, FunctionMaxDynamicSharedBytes, dynamicSharedBytes);
            if (result != 0)
            {
                cuDeviceGetAttribute(out var optin, MaxSharedMemoryPerBlockOptin, _device);
                throw Error(result, kernel, $"{dynamicSharedBytes:N0} bytes of dynamic shared memory asked; a block may have at most {optin:N0}");
            }
            function.DynamicSharedLimit = dynamicSharedBytes;
        }
        return function.Handle;
    }

    /// <summary>Loads a module's PTX (the driver JIT-compiles it for this device), with the JIT's error log on failure.</summary>
    private nint Module(string module)
    {
        if (_modules.TryGetValue(module, out var loaded)) return loaded;
        var ptx = Encoding.UTF8.GetBytes(PtxLibrary.Embedded.Text(_architecture, module) + '\0');
        const int logBytes = 16 * 1024;
        var log = stackalloc byte[logBytes];
        var options = stackalloc int[] { JitErrorLogBuffer, JitErrorLogBufferSizeBytes };
        var optionValues = stackalloc void*[] { log, (void*)(nint)logBytes };
        int result;
        fixed (byte* image = ptx) result = cuModuleLoadDataEx(out loaded, image, 2, options, optionValues);
        Check(result, $"cuModuleLoadDataEx({module}.ptx, sm_{_architecture})", Marshal.PtrToStringUTF8((nint)log) ?? "");
        return _modules[module] = loaded;
    }

    private static string DeviceName(int device)
    {
        var name = stackalloc byte[256];
        Check(cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((nint)name) ?? "CUDA device";
    }

    /// <summary>
    /// Frees what the buffers did not, unloads the modules, releases the context. Results are not checked: after
    /// a kernel fault every call fails with the same sticky error, and releasing is all that is left to do.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        cuCtxSetCurrent(_context);
        foreach (var address in _memory.Addresses.ToList())
        {
            _memory.Remove(address);
            cuMemFree(address);
        }
        foreach (var module in _modules.Values) cuModuleUnload(module);
        cuStreamDestroy(_stream);
        cuDevicePrimaryCtxRelease(_device);
        _disposed = true;
    }
}
