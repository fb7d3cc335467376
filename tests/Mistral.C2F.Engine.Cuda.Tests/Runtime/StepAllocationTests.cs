using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
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
            backend.BradleyTerry(scores.Value, margins, centering: 0, pairs, seed, optimizer.LossSum, optimizer.StepStatistics);
            tape.Backward((scores, seed));
            outcome = optimizer.Apply(1e-4, maxGradNorm: 1.0);
        });
        Assert.Equal(0, counts.Allocations);
        Assert.Equal(0, counts.Frees);
        Assert.Equal(1, counts.HostSyncs);
        Assert.True(outcome.LossSum > 0 && outcome.Statistics.Count == BradleyTerryStatistics.Count, $"loss {outcome.LossSum}, {outcome.Statistics.Count} statistics");
    }

    /// <summary>
    /// A PPO mini-batch update as the trainer makes it: the actor's log-probabilities and entropy, the clipped surrogate
    /// on the device, its backward and step; the critic's values, the clipped value loss, its backward and step. Two
    /// waits, one per optimizer read, which brings each loss's statistics with it (there were five: the log-probs, the
    /// entropy and the values were read back for losses computed on the host).
    /// </summary>
    [Fact]
    public void A_ppo_mini_batch_update_after_warm_up_allocates_nothing_and_waits_once_per_model()
    {
        using var backend = new CudaBackend(device(), ownsDevice: false);
        using var actor = TestModels.Random(Config, backend, seed: 6);
        using var critic = TestModels.Random(Config with { Architecture = MistralConfig.SequenceClassification }, backend, seed: 7);
        var (actorGradients, criticGradients) = (actor.AttachGradients(), critic.AttachGradients());
        using var actorTape = new Tape(backend);
        using var criticTape = new Tape(backend);
        using var actorOptimizer = new AdamWOptimizer(backend, actor.Parameters, actorGradients, new AdamWOptions(), stepStatistics: PpoLosses.PolicyStatistics);
        using var criticOptimizer = new AdamWOptimizer(backend, critic.Parameters, criticGradients, new AdamWOptions(), stepStatistics: PpoLosses.ValueStatistics);
        var random = new Random(6);
        const int rows = 2, length = 12;
        // The last 5 tokens of each row are the response: their predicting rows carry targets, the others −1.
        int[] Targets(int[] tokens) => tokens.Select((t, i) => i % length is >= length - 6 and < length - 1 ? tokens[i + 1] : -1).ToArray();
        Tensor PerRow(Tensor like, float scale)
        {
            var tensor = backend.Allocate(like.Shape, backend.FloatType);
            backend.Upload(Enumerable.Range(0, (int)like.ElementCount).Select(_ => scale * ((float)random.NextDouble() - 0.5f)).ToArray(), tensor);
            return tensor;
        }
        var counts = Measure(backend, () =>
        {
            var ids = TestModels.RandomTokens(random, rows * length, Config.VocabSize);
            using var tokens = backend.FromInts(ids, rows, length);
            using var positions = backend.FromInts(Enumerable.Range(0, rows).SelectMany(_ => Enumerable.Range(0, length)).ToArray(), rows, length);
            using var targets = backend.FromInts(Targets(ids), rows * length);
            var logits = actor.Forward(actorTape, tokens, positions, layout: AttentionLayout.Sequences);
            var (logProbs, entropy) = actor.Ops(actorTape).TokenLogProbs(logits, targets, withEntropy: true);
            using (var oldLogProbs = PerRow(logProbs.Value, 0.2f))
            using (var advantages = PerRow(logProbs.Value, 2f))
            using (var logProbSeed = backend.Allocate(logProbs.Value.Shape, backend.FloatType))
            using (var entropySeed = backend.Allocate(entropy!.Value.Shape, backend.FloatType))
            {
                backend.PpoPolicyLoss(logProbs.Value, entropy.Value, oldLogProbs, advantages, targets, new PpoLossSettings(0.2, 0.01, 10), logProbSeed, entropySeed,
                    actorOptimizer.LossSum, actorOptimizer.StepStatistics);
                actorTape.Backward((logProbs, logProbSeed), (entropy, entropySeed));
            }
            actorOptimizer.Apply(1e-4, maxGradNorm: 1.0);
            var values = critic.Forward(criticTape, tokens, positions, layout: AttentionLayout.Sequences);
            using (var oldValues = PerRow(values.Value, 1f))
            using (var returns = PerRow(values.Value, 1f))
            using (var valueSeed = backend.Allocate(values.Value.Shape, backend.FloatType))
            {
                backend.PpoValueLoss(values.Value, oldValues, returns, targets, new PpoLossSettings(0.2, 0.1, 10), valueSeed, criticOptimizer.LossSum,
                    criticOptimizer.StepStatistics);
                criticTape.Backward((values, valueSeed));
            }
            criticOptimizer.Apply(1e-4, maxGradNorm: 1.0);
        });
        // Zero also says that the two optimizers' AdamW tables stay on the device while they take turns.
        Assert.Equal(0, counts.Allocations);
        Assert.Equal(0, counts.Frees);
        Assert.Equal(2, counts.HostSyncs);
    }

    /// <summary>
    /// PPO's four scorings of a rollout batch (actor, reference, critic, reward model) read back together: one wait for
    /// all, each tensor's values as its own read gives them, and a fault recorded before the read still thrown by it.
    /// </summary>
    [Fact]
    public void Several_results_read_together_wait_once_and_still_throw_a_recorded_fault()
    {
        using var backend = new CudaBackend(device(), ownsDevice: false);
        var random = new Random(8);
        float[][] values = [Numerics.RandomFloats(random, 1), Numerics.RandomFloats(random, 37), Numerics.RandomFloats(random, 1000), Numerics.RandomFloats(random, 3)];
        var tensors = values.Select(v => backend.FromFloats(v, v.Length)).ToArray();
        var before = backend.Counts;
        var read = backend.ToDoubles(tensors);
        var counts = backend.Counts - before;
        Assert.Equal(1, counts.HostSyncs);
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i].Select(v => (double)v), read[i]);

        using var table = backend.FromFloats([1f, 2f], 2, 1);
        using var indices = backend.FromInts([5], 1);
        using var rows = backend.Allocate(1, 1);
        backend.GatherRows(table, indices, rows);  // row 5 of a 2-row table: recorded on the device, thrown by the next read
        Assert.Contains("GatherRows: row index 5 outside 0..1", Assert.Throws<IndexOutOfRangeException>(() => backend.ToDoubles(tensors)).Message);
        Assert.Equal(values[1].Select(v => (double)v), backend.ToDoubles(tensors)[1]);  // the record was cleared by the throw
        foreach (var t in tensors) t.Dispose();
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
