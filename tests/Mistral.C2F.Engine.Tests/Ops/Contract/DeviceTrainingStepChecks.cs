using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Ops.Contract;

/// <summary>
/// One training step of the two-layer test model (GQA 4:2, sliding window, masked targets, batch 3) on the
/// backend under test (ILGPU, CUDA kernels) against the float32 CPU backend: the loss, every parameter gradient, the parameters
/// after one AdamW update, and the loss the updated model gives (what a backend that kept a copy of the old weights gets wrong). Both sides are float32 with different summation orders, so the tolerances are
/// those of two float32 paths (measured errors are about 1e-7 for the loss and 1e-6 for gradients).
/// </summary>
public abstract class DeviceTrainingStepChecks(Func<Backend> backend)
{
    /// <summary>Relative tolerances of the loss, the gradients and the updated parameters: two float32 paths by default.</summary>
    protected virtual (double Loss, double Gradient, double Parameter) Tolerances => (1e-6, 1e-5, 1e-6);

    /// <summary>The model stepped: the two-layer test model by default.</summary>
    protected virtual MistralConfig Config(int? window, bool tied) => TestModels.Tiny(window, tied);

    [Theory]
    [InlineData(false, 8)]
    [InlineData(true, null)]
    public void Loss_gradients_and_an_AdamW_update_match_the_cpu_backend(bool tied, int? window)
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var config = Config(window, tied);
        var rows = Enumerable.Range(0, 3).Select(_ => TestModels.RandomTokens(random, 21, config.VocabSize)).ToArray();
        var batch = CausalLmLoss.Batch.NextTokens(rows);
        for (int i = 0; i < 6; i++) batch.Targets[21 + i] = -1;

        var expected = Step(new CpuBackend(2), config, batch, seed, disposeBackend: true);
        var actual = Step(backend(), config, batch, seed, disposeBackend: false);

        var tolerance = Tolerances;
        Assert.True(Math.Abs(actual.Loss - expected.Loss) <= tolerance.Loss * expected.Loss, $"loss {actual.Loss} vs {expected.Loss} (seed {seed})");
        Assert.True(Math.Abs(actual.UpdatedLoss - expected.UpdatedLoss) <= tolerance.Loss * expected.UpdatedLoss,
            $"loss after the update {actual.UpdatedLoss} vs {expected.UpdatedLoss} (seed {seed})");
        foreach (var (name, gradient) in expected.Gradients)
            Numerics.AssertClose(actual.Gradients[name], Widen(gradient), tolerance.Gradient, $"gradient {name} (seed {seed})");
        foreach (var (name, parameter) in expected.Parameters)
            Numerics.AssertClose(actual.Parameters[name], Widen(parameter), tolerance.Parameter, $"{name} after AdamW (seed {seed})");
    }

    /// <summary>No device backend sums with float atomics, so a step repeated from the same start gives the same bits.</summary>
    [Fact]
    public void A_step_repeats_bit_for_bit()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var config = Config(window: 8, tied: false);
        var batch = CausalLmLoss.Batch.NextTokens(Enumerable.Range(0, 3).Select(_ => TestModels.RandomTokens(random, 21, config.VocabSize)).ToArray());
        var first = Step(backend(), config, batch, seed, disposeBackend: false);
        var second = Step(backend(), config, batch, seed, disposeBackend: false);
        Assert.Equal(first.Loss, second.Loss);
        foreach (var (name, gradient) in first.Gradients) Assert.True(gradient.SequenceEqual(second.Gradients[name]), $"gradient {name} (seed {seed})");
        foreach (var (name, parameter) in first.Parameters) Assert.True(parameter.SequenceEqual(second.Parameters[name]), $"{name} (seed {seed})");
    }

    private sealed record StepResult(double Loss, Dictionary<string, float[]> Gradients, Dictionary<string, float[]> Parameters, double UpdatedLoss);

    private static double[] Widen(float[] values) => values.Select(x => (double)x).ToArray();

    private static StepResult Step(Backend backend, MistralConfig config, CausalLmLoss.Batch batch, int seed, bool disposeBackend)
    {
        try
        {
            using var model = TestModels.Random(config, backend, seed);
            var gradients = model.AttachGradients();
            // A first AdamW step moves each weight by about lr·g/(|g| + ε): with the default ε = 1e-8 a gradient element near
            // zero whose float32 value differs in sign between the backends moves its weight by ±lr. A larger ε keeps the
            // update a smooth function of the gradient, so the comparison tests the step, not float32 noise at zero.
            using var optimizer = new AdamWOptimizer(backend, model.Parameters, gradients, new AdamWOptions { WeightDecay = 0.1f, Epsilon = 1e-3f });
            using (var tape = new Tape(backend)) CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens, optimizer.LossSum);
            var gradientValues = gradients.ToDictionary(g => g.Key, g => backend.ToFloats(g.Value));
            var outcome = optimizer.Apply(learningRate: 1e-3, maxGradNorm: 0);
            Assert.True(outcome.Updated);
            return new StepResult(outcome.LossSum / batch.LossTokens, gradientValues, model.Parameters.ToDictionary(p => p.Key, p => backend.ToFloats(p.Value)),
                CausalLmLoss.Forward(model, batch) / batch.LossTokens);
        }
        finally
        {
            if (disposeBackend) backend.Dispose();
        }
    }
}
