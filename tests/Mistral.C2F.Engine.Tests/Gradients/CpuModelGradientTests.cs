using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Gradients;

/// <summary>The float32 CPU training path against the float64 reference path: the loss and every parameter gradient.</summary>
[Trait("Backend", "cpu")]
public sealed class CpuModelGradientTests
{
    // Float32 through two layers forward and back; measured errors are about 3e-8 (loss) and 7e-7 (gradients).
    private const double LossTolerance = 1e-6, GradientTolerance = 1e-5;

    [Theory]
    [InlineData(false, 8)]
    [InlineData(true, null)]
    public void Loss_and_every_gradient_match_the_float64_reference(bool tied, int? window)
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var config = TestModels.Tiny(window, tied);
        var batch = CausalLmLoss.Batch.NextTokens([TestModels.RandomTokens(random, 21, 61), TestModels.RandomTokens(random, 21, 61), TestModels.RandomTokens(random, 21, 61)]);
        for (int i = 0; i < 6; i++) batch.Targets[21 + i] = -1;

        (double Loss, Dictionary<string, double[]> Gradients) Train(Backend backend)
        {
            using var model = TestModels.Random(config, backend, seed);
            var gradients = model.AttachGradients();
            using var tape = new Tape(backend);
            double loss = CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens) / batch.LossTokens;
            return (loss, gradients.ToDictionary(g => g.Key, g => backend.ToDoubles(g.Value)));
        }

        var expected = Train(new ReferenceBackend());
        var actual = Train(new CpuBackend(2));
        Assert.True(Math.Abs(actual.Loss - expected.Loss) <= LossTolerance * expected.Loss, $"loss {actual.Loss} vs {expected.Loss} (seed {seed})");
        foreach (var (name, gradient) in expected.Gradients)
            Numerics.AssertClose(actual.Gradients[name].Select(x => (float)x).ToArray(), gradient, GradientTolerance, $"{name} (seed {seed})");
    }
}
