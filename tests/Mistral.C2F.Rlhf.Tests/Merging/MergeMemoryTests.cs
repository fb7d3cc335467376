using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

/// <summary>
/// The merger streams: the managed memory it allocates is bounded by a few tensors, not by the model. Measured as the
/// bytes allocated on the merging thread (the merge runs on the caller's thread; other tests cannot disturb the
/// count), which bounds the peak of what the merge can hold at once.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class MergeMemoryTests : IDisposable
{
    // 64 K floats (256 KiB) in the embedding, the head and each MLP matrix; the attention matrices are smaller.
    private static readonly MistralConfig Config = MergeModels.Config with { VocabSize = 512, HiddenSize = 128, IntermediateSize = 512 };
    private const long LargestTensorBytes = 512 * 128 * sizeof(float);

    private readonly TemporaryDirectory _directory = new();
    private readonly ITestOutputHelper _output;

    public MergeMemoryTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _directory.Dispose();

    private (long Allocated, long ModelBytes, int Tensors) MeasureKrm(int layers, string? name = null)
    {
        var config = Config with { NumHiddenLayers = layers };
        name ??= $"layers{layers}";
        var spec = MergeSpec.Krm(MergeModels.Write(_directory.File($"{name}-base"), 1, config), MergeModels.Write(_directory.File($"{name}-coarse"), 2, config),
            MergeModels.Write(_directory.File($"{name}-instruct"), 3, config)) with { Refine = Sparsification.Trim, Density = 0.5 };
        var output = _directory.File($"{name}-out");

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = ModelMerger.Run(spec, output, cancellationToken: TestContext.Current.CancellationToken);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Single(result.WeightFiles);
        _output.WriteLine($"{layers} layers: {result.Tensors} tensors, {result.Parameters * 4 / 1024} KiB per model, " +
            $"{allocated / 1024} KiB allocated, of which {result.BufferBytes / 1024} KiB merge buffers");
        return (allocated, result.Parameters * sizeof(float), result.Tensors);
    }

    [Fact]
    public void A_krm_merge_allocates_a_few_tensors_whatever_the_size_of_the_model()
    {
        // A first merge warms what is allocated once per process or thread (JIT, pooled arrays that other tests on
        // this thread may or may not have rented already), so the two measured merges start from the same state.
        MeasureKrm(layers: 1, name: "warm-up");
        var small = MeasureKrm(layers: 1);
        var large = MeasureKrm(layers: 8);
        Assert.True(large.ModelBytes > 30 * LargestTensorBytes);

        // Buffers: base, instruct, coarse and output, one largest tensor each: (inputs + 1) × largest. On top, costs that
        // do not grow with the tensors: the shard writer's 1 MiB conversion chunk and 1 MiB file buffer, the trim's
        // 256 KiB histogram (pooled); and headers and names, about 1 KiB per tensor and input.
        const int inputs = 3;
        long bound = (inputs + 2) * LargestTensorBytes + (3 << 20) + 6 * 1024L * large.Tensors;
        Assert.True(large.Allocated < bound, $"allocated {large.Allocated} bytes, bound {bound}");
        // More layers cost only their headers, names and per-tensor bookkeeping (measured warm: about 2.7 KiB per tensor
        // and input), against about 100 KiB of data per tensor and model here.
        long perTensor = (large.Allocated - small.Allocated) / (large.Tensors - small.Tensors);
        Assert.True(perTensor < 4096 * inputs, $"{perTensor} bytes allocated per additional tensor");
    }
}
