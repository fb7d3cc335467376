using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Model;

[Trait("Backend", "cpu")]
public sealed class SequenceClassifierTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_language_model_becomes_a_classifier_with_a_zero_score_head_and_round_trips()
    {
        var config = TestModels.Tiny();
        using var backend = new CpuBackend(2);
        using (var lm = TestModels.Random(config, backend, 3))
            MistralCheckpoint.SaveParameters(_directory.File("lm"), config, lm.Parameters.Select(p => (p.Key, p.Value)), DType.F32, 1 << 30);

        using var classifier = MistralCheckpoint.LoadSequenceClassifier(_directory.File("lm"), backend);
        Assert.True(classifier.Config.IsSequenceClassifier);
        Assert.DoesNotContain(MistralParameterNames.LmHead, classifier.Parameters.Keys);
        var scores = backend.ToFloats(classifier.Forward(backend.FromInts([1, 2, 3], 1, 3), backend.FromInts([0, 1, 2], 1, 3)));
        Assert.Equal([0f, 0f, 0f], scores);

        backend.Upload(Numerics.RandomFloats(new Random(1), config.HiddenSize), classifier.Parameters[MistralParameterNames.ScoreHead]);
        MistralCheckpoint.SaveParameters(_directory.File("rm"), classifier.Config, classifier.Parameters.Select(p => (p.Key, p.Value)), DType.F32, 1 << 30);
        Assert.Equal(MistralConfig.SequenceClassification, MistralCheckpoint.LoadConfig(_directory.File("rm")).Architecture);
        using var reloaded = MistralCheckpoint.LoadSequenceClassifier(_directory.File("rm"), backend);
        Assert.Equal(backend.ToFloats(classifier.Parameters[MistralParameterNames.ScoreHead]),
            backend.ToFloats(reloaded.Parameters[MistralParameterNames.ScoreHead]));
    }

    [Fact]
    public void Scores_and_their_gradients_match_the_float64_reference()
    {
        int seed = Environment.TickCount;
        var config = TestModels.Tiny() with { Architecture = MistralConfig.SequenceClassification };
        var random = new Random(seed);
        var tokens = TestModels.RandomTokens(random, 2 * 9, 61);
        var positions = Enumerable.Range(0, 2).SelectMany(_ => Enumerable.Range(0, 9)).ToArray();
        var seedGradient = new[] { 0.7f, -1.3f };

        (double[] Scores, double[] HeadGradient, double[] EmbeddingGradient) Run(Backend backend)
        {
            using var model = TestModels.Random(config, backend, seed);
            var gradients = model.AttachGradients();
            using var tape = new Tape(backend);
            // Scores read at each row's last token, as a reward model reads them.
            var scores = model.Forward(tape, backend.FromInts(tokens, 2, 9), backend.FromInts(positions, 2, 9), backend.FromInts([8, 17], 2));
            var values = backend.ToDoubles(scores.Value);
            tape.Backward((scores, backend.FromFloats(seedGradient, 2, 1)));
            return (values, backend.ToDoubles(gradients[MistralParameterNames.ScoreHead]), backend.ToDoubles(gradients[MistralParameterNames.Embedding]));
        }

        var expected = Run(new ReferenceBackend());
        var actual = Run(new CpuBackend(2));
        Numerics.AssertClose(actual.Scores.Select(x => (float)x).ToArray(), expected.Scores, 1e-5, $"scores (seed {seed})");
        Numerics.AssertClose(actual.HeadGradient.Select(x => (float)x).ToArray(), expected.HeadGradient, 1e-5, $"score head gradient (seed {seed})");
        Numerics.AssertClose(actual.EmbeddingGradient.Select(x => (float)x).ToArray(), expected.EmbeddingGradient, 1e-5, $"embedding gradient (seed {seed})");
    }
}
