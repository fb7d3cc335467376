using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Ilgpu.Kernels;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Ilgpu;

/// <summary>
/// The op contract as ILGPU kernels on a CUDA GPU or on ILGPU's CPU accelerator, in float32. Tensors live
/// in device memory; ops launch on the accelerator's default stream and return without waiting, so the
/// only synchronising calls are downloads and <see cref="Backend.SumOfSquares"/>. Kernels are compiled on
/// first use and kept for the backend's lifetime. Like a CUDA stream, one backend is driven by one thread.
/// </summary>
public sealed partial class IlgpuBackend : DeviceMemoryBackend
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly KernelLaunch _launch;
    private readonly DeviceFaults _faults;
    private readonly DeviceScratch _scratch;
    private readonly DeviceBlockPool<MemoryBuffer1D<byte, Stride1D.Dense>> _pool;
    private readonly DeviceCounter _counter = new();
    private ElementwiseKernels? _elementwise;
    private RowKernels? _rows;
    private RmsNormKernels? _rmsNorm;
    private GemmKernels? _gemm;
    private RopeKernels? _rope;
    private AttentionForwardKernels? _attention;
    private AttentionBackwardKernels? _attentionBackward;
    private LogProbKernels? _logProbs;
    private AdamWKernels? _adamW;
    private ReductionKernels? _reduction;
    private LossKernels? _losses;

    private IlgpuBackend(Context context, Accelerator accelerator, IlgpuAcceleratorInfo info)
    {
        (_context, _accelerator, Accelerator) = (context, accelerator, info);
        _launch = new KernelLaunch(accelerator, _counter);
        _faults = new DeviceFaults(accelerator, _counter);
        _scratch = new DeviceScratch(accelerator, _counter);
        _pool = new DeviceBlockPool<MemoryBuffer1D<byte, Stride1D.Dense>>(accelerator.Allocate1D<byte>, buffer => buffer.Dispose(), exactSizes: false,
            _counter);
    }

    /// <summary>
    /// A backend on the preferred accelerator. <see cref="IlgpuDevice.Auto"/> takes a CUDA GPU when ILGPU finds
    /// one and otherwise the CPU accelerator (see <see cref="IlgpuAcceleratorInfo.FallbackReason"/>).
    /// </summary>
    public static IlgpuBackend Create(IlgpuDevice preference = IlgpuDevice.Auto)
    {
        var (context, accelerator, info) = IlgpuAcceleratorFactory.Create(preference);
        return new IlgpuBackend(context, accelerator, info);
    }

    /// <summary>Whether ILGPU can drive a CUDA GPU on this machine; never throws.</summary>
    public static bool CudaAvailable(out string reason) => IlgpuAcceleratorFactory.CudaAvailable(out reason);

    /// <summary>The accelerator this backend runs on.</summary>
    public IlgpuAcceleratorInfo Accelerator { get; }

    public override string Name => Accelerator.Kind == IlgpuDevice.Cuda ? "ilgpu-cuda" : "ilgpu-cpu";
    public override DType FloatType => DType.F32;

    /// <summary>What the backend has asked of the accelerator so far; subtract two snapshots for one step.</summary>
    public override DeviceCounts Counts => _counter.Counts;

    /// <summary>Waits for every queued kernel, then throws any index fault a kernel reported.</summary>
    public void Synchronize()
    {
        _accelerator.Synchronize();
        _counter.Synced();
        _faults.ThrowIfAny();
    }

    private ElementwiseKernels Elementwise => _elementwise ??= new(_launch);
    private RowKernels Rows => _rows ??= new(_launch, _faults, _scratch);
    private RmsNormKernels RmsNormKernels => _rmsNorm ??= new(_launch, _scratch);
    private GemmKernels Gemm => _gemm ??= new(_launch);
    private RopeKernels RopeKernels => _rope ??= new(_launch);
    private AttentionForwardKernels AttentionKernels => _attention ??= new(_launch);
    private AttentionBackwardKernels AttentionBackwardKernels => _attentionBackward ??= new(_launch, _scratch);
    private LogProbKernels LogProbs => _logProbs ??= new(_launch, _faults);
    private AdamWKernels AdamWKernels => _adamW ??= new(_launch);
    private ReductionKernels Reduction => _reduction ??= new(_launch, _scratch);
    private LossKernels Losses => _losses ??= new(_launch);

    private static ArrayView<float> F(Tensor t) => IlgpuStorage.View<float>(t);
    private static ArrayView<float>? Optional(Tensor? t) => t is null ? null : IlgpuStorage.View<float>(t);
    private static ArrayView<int> I(Tensor t) => IlgpuStorage.View<int>(t);

    public override void Dispose()
    {
        _pool.Dispose();
        _scratch.Dispose();
        _faults.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
        base.Dispose();
    }
}
