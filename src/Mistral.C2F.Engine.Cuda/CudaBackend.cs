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
    private readonly IKernelDevice _device;
    private readonly bool _ownsDevice;
    private readonly KernelFaults _faults;
    private readonly ElementwiseKernels _elementwise;
    private readonly RmsNormKernels _rmsNorm;
    private readonly RopeKernels _rope;
    private readonly RowKernels _rows;
    private readonly LogProbKernels _logProbs;
    private readonly AdamWKernels _adamW;
    private readonly ReductionKernels _reduction;
    private readonly GemmKernels _gemm;
    private readonly AttentionKernels _attention;
    private readonly ConversionKernels _conversion;
    private readonly KernelScratch _bf16Left, _bf16Right;

    /// <param name="device">The device the kernels run on.</param>
    /// <param name="ownsDevice">Whether disposing the backend disposes the device.</param>
    /// <param name="matMul">Float32 products (the contract's accuracy) or bf16 tensor cores (autocast).</param>
    public CudaBackend(IKernelDevice device, bool ownsDevice = true, MatMulPrecision matMul = MatMulPrecision.Float32)
    {
        (_device, _ownsDevice, MatMulPrecision) = (device, ownsDevice, matMul);
        _conversion = new ConversionKernels(device);
        (_bf16Left, _bf16Right) = (new KernelScratch(device), new KernelScratch(device));
        _faults = new KernelFaults(device);
        _elementwise = new ElementwiseKernels(device);
        _rmsNorm = new RmsNormKernels(device);
        _rope = new RopeKernels(device);
        _rows = new RowKernels(device, _faults);
        _logProbs = new LogProbKernels(device, _faults);
        _adamW = new AdamWKernels(device);
        _reduction = new ReductionKernels(device);
        _gemm = new GemmKernels(device);
        _attention = new AttentionKernels(device);
    }

    /// <summary>"cuda" on a GPU, "cuda-emu" on the CPU emulator; "-bf16" when products run on bf16 tensor cores.</summary>
    public override string Name => (_device is EmulatedDevice ? "cuda-emu" : "cuda") + (MatMulPrecision == MatMulPrecision.Bf16TensorCores ? "-bf16" : "");

    /// <summary>How this backend multiplies matrices.</summary>
    public MatMulPrecision MatMulPrecision { get; }

    public override DType FloatType => DType.F32;

    /// <summary>The device in words.</summary>
    public string DeviceName => _device.Name;

    /// <summary>Waits for every launch so far, then throws any index fault a kernel recorded.</summary>
    public void Synchronize()
    {
        _device.Synchronize();
        _faults.ThrowIfAny();
    }

    private static ulong A(Tensor t) => CudaStorage.Address(t);
    private static ulong Optional(Tensor? t) => t is null ? 0 : CudaStorage.Address(t);

    public override void Dispose()
    {
        _bf16Left.Dispose();
        _bf16Right.Dispose();
        _reduction.Dispose();
        _rmsNorm.Dispose();
        _faults.Dispose();
        if (_ownsDevice) _device.Dispose();
        base.Dispose();
    }
}
