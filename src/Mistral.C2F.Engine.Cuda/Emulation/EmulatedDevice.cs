using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Cuda.Emulation;

/// <summary>
/// The kernels of kernels/*.cu compiled for the CPU (libc2f_cuda_emu) behind the same interface as the CUDA
/// driver: device memory is host memory, copies are memcpy, and a launch runs the grid before returning.
/// </summary>
public sealed unsafe class EmulatedDevice : IKernelDevice
{
    private readonly DeviceAllocations _memory = new();
    private readonly Dictionary<string, string> _signatures = new(StringComparer.Ordinal);

    private EmulatedDevice(int? workerThreads)
    {
        if (workerThreads is { } count) EmulatorApi.SetWorkerThreads(count);
        Multiprocessors = workerThreads is > 0 ? workerThreads.Value : Environment.ProcessorCount;
    }

    /// <summary>
    /// The emulator, or null with the reason when its native library was not built (no host C++ compiler).
    /// <paramref name="workerThreads"/> = 1 runs blocks one after another: atomics then add in a fixed order.
    /// </summary>
    public static EmulatedDevice? TryCreate(out string reason, int? workerThreads = null) =>
        EmulatorApi.TryLoad(out reason) ? new EmulatedDevice(workerThreads) : null;

    public string Name => "CPU emulator";

    /// <summary>The worker threads that run blocks side by side.</summary>
    public int Multiprocessors { get; }

    /// <summary>The extern "C" names of the kernels compiled into the library.</summary>
    public IReadOnlyList<string> KernelNames =>
        [.. Enumerable.Range(0, EmulatorApi.KernelCount()).Select(i => Marshal.PtrToStringUTF8(EmulatorApi.KernelName(i))!)];

    public DeviceBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var address = (ulong)EmulatorApi.Malloc((nuint)Math.Max(bytes, 1));
        if (address == 0)
            throw new CudaException("c2f_emu_malloc", "out of memory", $"{bytes} bytes asked of the host");
        _memory.Add(address, bytes);
        return new DeviceBuffer(address, bytes, Free);
    }

    private void Free(ulong address)
    {
        if (_memory.Remove(address)) EmulatorApi.Free((nint)address);
    }

    public void Upload<T>(ReadOnlySpan<T> source, ulong destination) where T : unmanaged
    {
        _memory.CheckRange(destination, (long)source.Length * sizeof(T), "upload");
        source.CopyTo(new Span<T>((void*)destination, source.Length));
    }

    public void Download<T>(ulong source, Span<T> destination) where T : unmanaged
    {
        _memory.CheckRange(source, (long)destination.Length * sizeof(T), "download");
        new ReadOnlySpan<T>((void*)source, destination.Length).CopyTo(destination);
    }

    public void Fill32(ulong destination, uint value, long count)
    {
        _memory.CheckRange(destination, count * sizeof(uint), "fill");
        new Span<uint>((void*)destination, checked((int)count)).Fill(value);
    }

    public void Launch(string kernel, LaunchShape shape, params KernelArg[] args)
    {
        shape.Validate(kernel);
        CheckArguments(kernel, args);
        var values = stackalloc ulong[args.Length];
        var pointers = stackalloc void*[args.Length];
        KernelArg.Pack(args, values, pointers);
        var (grid, block) = (shape.Grid, shape.Block);
        if (EmulatorApi.Launch(kernel, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, (uint)shape.DynamicSharedBytes, pointers) != 0)
            throw new CudaException(kernel, "emulated launch failed", Marshal.PtrToStringUTF8(EmulatorApi.LastError()) ?? "");
    }

    /// <summary>
    /// The launch's arguments against the kernel's C++ parameters, which the library recorded when it was compiled: a
    /// wrong count would read past the parameter array, a float where an int is declared (or an int where a pointer
    /// is) would run on reinterpreted bits. Both are refused here, on every emulated launch, so a test catches them.
    /// </summary>
    private void CheckArguments(string kernel, ReadOnlySpan<KernelArg> args)
    {
        if (!_signatures.TryGetValue(kernel, out var signature))
            _signatures[kernel] = signature = Marshal.PtrToStringUTF8(EmulatorApi.KernelSignature(kernel))
                ?? throw new CudaException(kernel, "unknown kernel", "no kernel of this name is compiled into the emulator library");
        if (signature.Length != args.Length)
            throw new CudaException(kernel, "wrong argument count", $"the kernel takes {signature.Length} parameters, the launch passes {args.Length}");
        for (int i = 0; i < args.Length; i++)
            if (args[i].Kind != signature[i])
                throw new CudaException(kernel, "wrong argument type",
                    $"parameter {i} is declared {KernelArg.Describe(signature[i])}, the launch passes {KernelArg.Describe(args[i].Kind)}");
    }

    /// <summary>Nothing to wait for: an emulated launch has finished when it returns.</summary>
    public void Synchronize() { }

    /// <summary>Frees what the caller did not (the library's memory outlives this object otherwise).</summary>
    public void Dispose()
    {
        foreach (var address in _memory.Addresses.ToList()) Free(address);
    }
}
