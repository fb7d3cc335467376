using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Gradients;

/// <summary>
/// The CPU backend's loss and gradients are the same bits on any thread count, so a run repeats on a machine with other
/// cores, and pipeline stages may run on lanes of any width. The sizes reach the two reductions whose grouping once
/// followed the threads: RMSNorm's weight gradient (4,400 rows of 32: eight row groups) and attention's dq (4 batch ×
/// kv-head pairs over 35 key blocks: four key stripes).
/// </summary>
[Trait("Backend", "cpu")]
public sealed class ThreadCountInvarianceTests
{
    [Fact]
    public void Loss_and_every_gradient_are_the_same_bits_on_one_to_four_threads()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var config = TestModels.Tiny(window: null);
        var batch = CausalLmLoss.Batch.NextTokens([.. Enumerable.Range(0, 2).Select(_ => TestModels.RandomTokens(random, 2201, config.VocabSize))]);

        (double Loss, Dictionary<string, float[]> Gradients) Train(int threads)
        {
            using var backend = new CpuBackend(threads);
            using var model = TestModels.Random(config, backend, seed);
            var gradients = model.AttachGradients();
            using var tape = new Tape(backend);
            double loss = CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens);
            return (loss, gradients.ToDictionary(g => g.Key, g => backend.ToFloats(g.Value)));
        }

        var oneThread = Train(1);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            var other = Train(threads);
            Assert.True(oneThread.Loss == other.Loss, $"loss {other.Loss} on {threads} threads, {oneThread.Loss} on one (seed {seed})");
            foreach (var (name, gradient) in oneThread.Gradients)
            {
                int first = Enumerable.Range(0, gradient.Length).FirstOrDefault(i => BitConverter.SingleToInt32Bits(gradient[i]) !=
                    BitConverter.SingleToInt32Bits(other.Gradients[name][i]), -1);
                Assert.True(first < 0, $"{name}[{first}] on {threads} threads differs from one thread's (seed {seed})");
            }
        }
    }
}
