using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Emulation;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// The op contract on the hand-written kernels of kernels/, in float32, on a GPU through the CUDA driver or on
/// the CPU emulator of the same kernels. Ops launch without waiting; downloads, <see cref="Backend.SumOfSquares"/>
/// and <see cref="Synchronize"/> wait, and report any index fault a kernel recorded. Like a CUDA stream, one
/// backend is driven by one thread.
/// </summary>
public sealed partial class CudaBackend : DeviceMemoryBackend
{
    private readonly CountingDevice _device;
    private readonly CachingAllocator _allocator;
    private readonly KernelFaults _faults;
    private readonly ElementwiseKernels _elementwise;
    private readonly RmsNormKernels _rmsNorm;
    private readonly RopeKernels _rope;
    private readonly RowKernels _rows;
    private readonly LogProbKernels _logProbs;
    private readonly BradleyTerryKernels _bradleyTerry;
    private readonly PpoLossKernels _ppoLosses;
    private readonly AdamWKernels _adamW;
    private readonly MultiTensorAdamW _multiTensorAdamW;
    private readonly ReductionKernels _reduction;
    private readonly GemmKernels _gemm;
    private readonly AttentionKernels _attention;
    private readonly ConversionKernels _conversion;
    private readonly FlashAttentionKernels _flash;
    private readonly PositionKernels _positions;
    private readonly Bf16Copies _bf16;
    private readonly KernelScratch _attentionScratch;
    private readonly KernelScratch _rowLengths;
    private readonly KernelScratch _reductionResult;

    /// <param name="device">The device the kernels run on.</param>
    /// <param name="ownsDevice">Whether disposing the backend disposes the device.</param>
    /// <param name="precision">Float32 everywhere (the contract's accuracy) or bf16 tensor cores for products and attention.</param>
    /// <param name="deterministic">
    /// With bf16 tensor cores, the flash backward's dQ by a pass of its own rather than float32 atomics, so every result
    /// repeats bit for bit (the float32 kernels always do); false trades that for about 40 % less attention-backward work.
    /// </param>
    public CudaBackend(IKernelDevice device, bool ownsDevice = true, CudaPrecision precision = CudaPrecision.Float32, bool deterministic = true)
    {
        (Precision, Deterministic) = (precision, deterministic);
        // Every kernel class launches through the counting device, so the counts see all the backend does.
        _device = new CountingDevice(device, ownsDevice);
        device = _device;
        _allocator = new CachingAllocator(device, exactSizes: _device.Inner is EmulatedDevice);
        _conversion = new ConversionKernels(device);
        _flash = new FlashAttentionKernels(device);
        _positions = new PositionKernels(device);
        _bf16 = new Bf16Copies(_allocator, _conversion);
        _attentionScratch = new KernelScratch(device);
        _rowLengths = new KernelScratch(device);
        _faults = new KernelFaults(device);
        _elementwise = new ElementwiseKernels(device);
        _rmsNorm = new RmsNormKernels(device);
        _rope = new RopeKernels(device);
        _rows = new RowKernels(device, _faults);
        _logProbs = new LogProbKernels(device, _faults);
        _bradleyTerry = new BradleyTerryKernels(device);
        _ppoLosses = new PpoLossKernels(device);
        _adamW = new AdamWKernels(device);
        _multiTensorAdamW = new MultiTensorAdamW(device, _adamW, precision == CudaPrecision.Bf16TensorCores ? _bf16 : null);
        _reduction = new ReductionKernels(device);
        _reductionResult = new KernelScratch(device);
        _gemm = new GemmKernels(device, device.Multiprocessors);
        _attention = new AttentionKernels(device);
    }

    /// <summary>"cuda" on a GPU, "cuda-emu" on the CPU emulator; "-bf16" with <see cref="CudaPrecision.Bf16TensorCores"/>.</summary>
    public override string Name => (_device.Inner is EmulatedDevice ? "cuda-emu" : "cuda") + (Precision == CudaPrecision.Bf16TensorCores ? "-bf16" : "");

    /// <summary>How this backend multiplies matrices.</summary>
    public CudaPrecision Precision { get; }

    /// <summary>Whether every result repeats bit for bit from run to run (no float atomics anywhere).</summary>
    public bool Deterministic { get; }

    public override DType FloatType => DType.F32;

    /// <summary>The device in words.</summary>
    public string DeviceName => _device.Name;

    /// <summary>What the backend has asked of the device so far; subtract two snapshots for one step.</summary>
    public override DeviceCounts Counts => _device.Counts;

    /// <summary>Device memory kept for reuse by freed tensors.</summary>
    public long CachedBytes => _allocator.CachedBytes;

    /// <summary>Waits for every launch so far, then throws any index fault a kernel recorded.</summary>
    public void Synchronize()
    {
        _device.Synchronize();
        _faults.ThrowIfAny();
    }

    /// <summary>The float32 address of a tensor the launch reads (widened first if it was written as bf16 alone).</summary>
    private ulong A(Tensor t) => CudaStorage.Address(_bf16.Widened(t));
    private ulong Optional(Tensor? t) => t is null ? 0 : A(t);

    /// <summary>
    /// The address of a tensor the launch writes as float32 (its bf16 copy goes stale); every float32 output goes through
    /// it. Widened first: the launch may write part of the storage, or accumulate into it.
    /// </summary>
    private ulong W(Tensor t) => CudaStorage.WriteAddress(_bf16.Widened(t));
    private ulong OptionalW(Tensor? t) => t is null ? 0 : W(t);

    /// <summary>The address of a tensor the launch writes whole as float32 without reading it: nothing to widen first.</summary>
    private ulong Overwrite(Tensor t) => CudaStorage.WriteAddress(_bf16.Overwritten(t));

    public override void Dispose()
    {
        _attentionScratch.Dispose();
        _rowLengths.Dispose();
        _reduction.Dispose();
        _reductionResult.Dispose();
        _rows.Dispose();
        _multiTensorAdamW.Dispose();
        _rmsNorm.Dispose();
        _faults.Dispose();
        _allocator.Dispose();
        _device.Dispose();
        base.Dispose();
    }
}
