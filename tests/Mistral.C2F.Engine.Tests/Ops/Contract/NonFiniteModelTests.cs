using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Ops.Contract;

/// <summary>
/// A NaN planted in one element of each kind of weight of the two-layer test model (window 3, so a NaN travels at most
/// two positions per layer): the backend under test gives non-finite logits exactly where the float64 reference does,
/// a non-finite loss and a non-finite gradient norm (the trainer's signal to skip the step) when the reference does.
/// </summary>
public abstract class NonFiniteModelTests(Func<Backend> backend)
{
    /// <summary>Batch row 1 holds <see cref="PlantedToken"/> once, at position 5; no other row or position does.</summary>
    public const int PlantedToken = 60, PlantedRow = 1, PlantedPosition = 5, Length = 12, Rows = 2;

    public static CausalLmLoss.Batch PlantedBatch(int seed)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, Rows).Select(_ => TestModels.RandomTokens(random, Length, PlantedToken)).ToArray();
        rows[PlantedRow][PlantedPosition] = PlantedToken;
        return CausalLmLoss.Batch.NextTokens(rows);
    }

    public static TheoryData<string> WeightKinds => new(
        MistralParameterNames.Embedding,
        MistralParameterNames.Layer(0, MistralParameterNames.InputNorm),
        MistralParameterNames.Layer(0, MistralParameterNames.QueryProjection),
        MistralParameterNames.Layer(0, MistralParameterNames.KeyProjection),
        MistralParameterNames.Layer(1, MistralParameterNames.ValueProjection),
        MistralParameterNames.Layer(1, MistralParameterNames.OutputProjection),
        MistralParameterNames.Layer(0, MistralParameterNames.PostAttentionNorm),
        MistralParameterNames.Layer(1, MistralParameterNames.GateProjection),
        MistralParameterNames.Layer(0, MistralParameterNames.UpProjection),
        MistralParameterNames.Layer(1, MistralParameterNames.DownProjection),
        MistralParameterNames.FinalNorm,
        MistralParameterNames.LmHead);

    [Theory]
    [MemberData(nameof(WeightKinds))]
    public void A_nan_weight_gives_non_finite_logits_loss_and_gradients_where_the_reference_does(string weight)
    {
        int seed = Environment.TickCount;
        var tested = Run(backend(), weight, seed);
        using var reference = new ReferenceBackend();
        var expected = Run(reference, weight, seed);
        string what = $"NaN in {weight} (seed {seed})";
        Numerics.AssertSameNonFinite(tested.Logits, expected.Logits.Select(x => (double)x).ToArray(), $"{what}: logits");
        Assert.False(double.IsFinite(expected.Loss), $"{what}: the reference's loss is {expected.Loss}");
        Assert.False(double.IsFinite(tested.Loss), $"{what}: loss {tested.Loss}");
        Assert.False(double.IsFinite(tested.GradientNorm), $"{what}: gradient norm {tested.GradientNorm}");
    }

    public sealed record Outcome(float[] Logits, double Loss, double GradientNorm);

    /// <summary>The logits, the mean loss and the gradient norm of the planted batch with one NaN in <paramref name="weight"/>.</summary>
    public static Outcome Run(Backend backend, string weight, int seed)
    {
        var config = TestModels.Tiny(window: 3);
        using var model = TestModels.Random(config, backend, seed);
        var parameter = model.Parameters[weight];
        var values = backend.ToFloats(parameter);
        int element = weight == MistralParameterNames.Embedding || weight == MistralParameterNames.LmHead
            ? PlantedToken * config.HiddenSize + new Random(seed).Next(config.HiddenSize)
            : new Random(seed).Next(values.Length);
        values[element] = float.NaN;
        backend.Upload(values, parameter);

        var batch = PlantedBatch(seed);
        using var tokens = backend.FromInts(batch.Tokens, batch.BatchSize, batch.Length);
        using var positions = backend.FromInts(Enumerable.Range(0, Rows).SelectMany(_ => Enumerable.Range(0, Length)).ToArray(), Rows, Length);
        var logits = backend.ToFloats(model.Forward(tokens, positions));
        var gradients = model.AttachGradients();
        double loss;
        using (var tape = new Tape(backend)) loss = CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens) / batch.LossTokens;
        using var norm = backend.Allocate(1);
        backend.GlobalNorm(gradients.Values.ToList(), norm);
        return new Outcome(logits, loss, backend.ToDoubles(norm)[0]);
    }
}
