using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>
/// After warm-up a training step, a forward pass and a decode step allocate nothing from the device: every tensor
/// a step makes and frees is served again by the caching allocator. The host waits once per training step (to read
/// the loss and the gradient norm with the kernels' fault record) and once per decode token (the logits), never for a
/// forward pass. The counts are those of the device under the backend (<see cref="CudaBackend.Counts"/>), printed for every step.
/// </summary>
public abstract class StepAllocationTests(Func<IKernelDevice> device)
{
    private static readonly MistralConfig Config = TestModels.Tiny(window: 8, tied: false);

    private static DeviceCounts Measure(CudaBackend backend, Action step, int warmup = 2)
    {
        for (int i = 0; i < warmup; i++) step();
        var before = backend.Counts;
        step();
        var counts = backend.Counts - before;
        TestContext.Current.TestOutputHelper?.WriteLine(counts.ToString());
        return counts;
    }

    [Theory]
    [InlineData(CudaPrecision.Float32)]
    [InlineData(CudaPrecision.Bf16TensorCores)]
    public void A_training_step_after_warm_up_allocates_nothing_and_waits_once(CudaPrecision precision)
    {
        using var backend = new CudaBackend(device(), ownsDevice: false, precision);
        using var model = TestModels.Random(Config, backend, seed: 3);
        var gradients = model.AttachGradients();
        using var tape = new Tape(backend);
        using var optimizer = new AdamWOptimizer(backend, model.Parameters, gradients, new AdamWOptions());
        var random = new Random(3);
        var counts = Measure(backend, () =>
        {
            var batch = CausalLmLoss.Batch.NextTokens(Enumerable.Range(0, 3).Select(_ => TestModels.RandomTokens(random, 21, Config.VocabSize)).ToArray());
            CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens, optimizer.LossSum);
            optimizer.Apply(1e-4, maxGradNorm: 1.0);
        });
        Assert.Equal(0, counts.Allocations);
        Assert.Equal(0, counts.Frees);
        Assert.Equal(1, counts.HostSyncs);
        Assert.True(counts.Launches > 0, "the step launched nothing");
    }

    /// <summary>
    /// A reward-model step as the trainer takes it: scores read at each row's last token, the Bradley–Terry loss and its
    /// statistics on the device, one wait (the optimizer's read brings the loss, the norm and the statistics together).
    /// </summary>
    [Fact]
    public void A_reward_model_step_after_warm_up_allocates_nothing_and_waits_once()
    {
        using var backend = new CudaBackend(device(), ownsDevice: false);
        using var model = TestModels.Random(Config with { Architecture = MistralConfig.SequenceClassification }, backend, seed: 5);
        var gradients = model.AttachGradients();
        using var tape = new Tape(backend);
        using var optimizer = new AdamWOptimizer(backend, model.Parameters, gradients, new AdamWOptions(), stepStatistics: BradleyTerryStatistics.Count);
        var random = new Random(5);
        StepOutcome outcome = default;
        var counts = Measure(backend, () =>
        {
            const int pairs = 2, length = 11;
            using var tokens = backend.FromInts(TestModels.RandomTokens(random, 2 * pairs * length, Config.VocabSize), 2 * pairs, length);
            using var positions = backend.FromInts(Enumerable.Range(0, 2 * pairs).SelectMany(_ => Enumerable.Range(0, length)).ToArray(), 2 * pairs, length);
            using var last = backend.FromInts([10, 7, 10, 4], 2 * pairs);
            using var margins = backend.FromFloats([0f, 0.5f], pairs);
            var scores = model.Forward(tape, tokens, positions, last, AttentionLayout.Sequences);
            using var seed = backend.Allocate(scores.Value.Shape, backend.FloatType);
            backend.BradleyTerry(scores.Value, margins, pairs, seed, optimizer.LossSum, optimizer.StepStatistics);
            tape.Backward((scores, seed));
            outcome = optimizer.Apply(1e-4, maxGradNorm: 1.0);
        });
        Assert.Equal(0, counts.Allocations);
        Assert.Equal(0, counts.Frees);
        Assert.Equal(1, counts.HostSyncs);
        Assert.True(outcome.LossSum > 0 && outcome.Statistics.Count == BradleyTerryStatistics.Count, $"loss {outcome.LossSum}, {outcome.Statistics.Count} statistics");
    }

    [Fact]
    public void A_forward_pass_and_a_decode_step_after_warm_up_allocate_nothing_and_wait_at_most_once()
    {
        using var backend = new CudaBackend(device(), ownsDevice: false);
        using var model = TestModels.Random(Config, backend, seed: 4);
        var random = new Random(4);
        var forward = Measure(backend, () =>
        {
            var rows = Enumerable.Range(0, 2).Select(_ => TestModels.RandomTokens(random, 13, Config.VocabSize)).ToArray();
            using var tokens = backend.FromInts(rows.SelectMany(r => r).ToArray(), 2, 13);
            using var positions = backend.FromInts(rows.SelectMany(r => Enumerable.Range(0, r.Length)).ToArray(), 2, 13);
            model.Forward(tokens, positions);  // logits in the model's workspace, reused by the next call
        });
        Assert.Equal(0, forward.Allocations);
        Assert.Equal(0, forward.HostSyncs);

        using var cache = new KvCache(model, 2, Config.SlidingWindow!.Value);
        int position = 0;
        var decode = Measure(backend, () =>
        {
            int[] positions = [position, position];
            using var tokens = backend.FromInts([random.Next(Config.VocabSize), random.Next(Config.VocabSize)], 2, 1);
            using var positionTensor = backend.FromInts(positions, 2, 1);
            cache.BeginChunk(positions);
            backend.ToFloats(model.Forward(tokens, positionTensor, cache));
            cache.EndChunk();
            position++;
        }, warmup: 3);
        Assert.Equal(0, decode.Allocations);
        Assert.Equal(1, decode.HostSyncs);
    }
}

/// <summary>The allocation checks on the kernel emulator.</summary>
[Trait("Backend", "cuda-emu")]
public sealed class EmulatedStepAllocationTests(KernelDevices devices) : StepAllocationTests(() => devices.Emulator);

/// <summary>The allocation checks on a CUDA GPU.</summary>
[Trait("Backend", "cuda")]
public sealed class CudaStepAllocationTests(KernelDevices devices) : StepAllocationTests(() => devices.Cuda);
