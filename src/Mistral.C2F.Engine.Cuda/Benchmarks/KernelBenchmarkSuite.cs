using Mistral.C2F.Engine.Cuda.Kernels;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// The kernel benchmarks of one scale: the two rooflines measured in the same run (copy bandwidth with our copy
/// kernel, bf16 tensor-core rate with our GEMM on a large cube), then every hand-written kernel family.
/// </summary>
public sealed class KernelBenchmarkSuite(KernelBenchmarkScale scale)
{
    public KernelBenchmarkScale Scale => scale;

    public KernelBenchmarkShapes Shapes { get; } = KernelBenchmarkShapes.For(scale);

    /// <summary>Device-to-device copy: reads and writes <see cref="KernelBenchmarkShapes.CopyBytes"/>.</summary>
    public KernelBenchmarkCase CopyRoofline => new("copy roofline f32x4", "copy", $"{Shapes.CopyBytes / (1 << 20)} MiB",
        PeerShape.Of(("bytes", Shapes.CopyBytes)),
        KernelWork.Bytes(2.0 * Shapes.CopyBytes),
        device =>
        {
            var a = new DeviceArena(device, 0);
            var kernels = new BandwidthKernels(device);
            ulong source = a.F32(Shapes.CopyBytes / sizeof(float)), destination = a.F32(Shapes.CopyBytes / sizeof(float));
            return a.Launch(() => kernels.Copy(source, destination, Shapes.CopyBytes));
        });

    public KernelBenchmarkCase GemmRoofline => GemmCases.Roofline(Shapes);

    /// <summary>Every kernel family's cases, rooflines excluded.</summary>
    public IReadOnlyList<KernelBenchmarkCase> Kernels =>
    [
        .. NormCases.All(Shapes), .. ElementwiseCases.All(Shapes), .. EmbeddingCases.All(Shapes), .. LogProbCases.All(Shapes),
        .. GemmCases.All(Shapes), .. AttentionCases.All(Shapes),
    ];

    /// <summary>The rooflines first, then the kernels: the order they run and print in.</summary>
    public IReadOnlyList<KernelBenchmarkCase> All => [CopyRoofline, GemmRoofline, .. Kernels];
}
