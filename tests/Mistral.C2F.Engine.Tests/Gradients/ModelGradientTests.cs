using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Gradients;

/// <summary>The taped model's loss gradient against finite differences of its loss, all in float64.</summary>
[Trait("Backend", "cpu")]
public sealed class ModelGradientTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_parameter_gradient_of_the_two_layer_model_matches_finite_differences(bool tied)
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        using var backend = new ReferenceBackend();
        using var model = TestModels.Random(TestModels.Tiny(window: 8, tied), backend, seed);
        var gradients = model.AttachGradients();
        // Twelve tokens per row: longer than the window of 8. Row 1 masks its first targets like a prompt.
        var batch = CausalLmLoss.Batch.NextTokens([TestModels.RandomTokens(random, 12, 61), TestModels.RandomTokens(random, 12, 61)]);
        for (int i = 12; i < 16; i++) batch.Targets[i] = -1;
        int count = batch.LossTokens;

        using var tape = new Tape(backend);
        double loss = CausalLmLoss.ForwardBackward(model, tape, batch, normalizer: count) / count;
        Assert.Equal(loss, CausalLmLoss.Forward(model, batch) / count, 12);
        Assert.Equal(0, tape.Count);

        foreach (var (name, parameter) in model.Parameters)
        {
            var values = parameter.HostSpan<double>().ToArray();
            double Objective()
            {
                values.CopyTo(parameter.HostSpan<double>());
                return CausalLmLoss.Forward(model, batch) / count;
            }
            FiniteDifferences.Check(values, Objective, backend.ToDoubles(gradients[name]), $"{name} (seed {seed})", random, samples: 4);
            values.CopyTo(parameter.HostSpan<double>());
        }
    }

    [Fact]
    public void Gradients_accumulate_over_micro_batches_to_the_gradient_of_the_whole_batch()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        using var backend = new ReferenceBackend();
        using var model = TestModels.Random(TestModels.Tiny(), backend, seed);
        var gradients = model.AttachGradients();
        int[][] rows = [TestModels.RandomTokens(random, 10, 61), TestModels.RandomTokens(random, 10, 61)];
        using var tape = new Tape(backend);

        var whole = CausalLmLoss.Batch.NextTokens(rows);
        CausalLmLoss.ForwardBackward(model, tape, whole, whole.LossTokens);
        var expected = gradients.ToDictionary(g => g.Key, g => backend.ToDoubles(g.Value));
        foreach (var g in gradients.Values) backend.Zero(g);

        foreach (var row in rows) CausalLmLoss.ForwardBackward(model, tape, CausalLmLoss.Batch.NextTokens([row]), whole.LossTokens);
        foreach (var (name, gradient) in gradients)
            Assert.Equal(expected[name], backend.ToDoubles(gradient), (x, y) => Math.Abs(x - y) <= 1e-12 * (1 + Math.Abs(x)));
    }
}
