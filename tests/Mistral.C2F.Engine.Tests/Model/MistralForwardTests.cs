using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Model;

[Trait("Backend", "cpu")]
public sealed class MistralForwardTests
{
    // Two layers of float32 accumulation over widths ≤ 61: a few ulps per op.
    private const double LogitTolerance = 1e-5;

    public static TheoryData<int?, bool, int, int> Shapes => new()
    {
        { 8, false, 1, 1 },
        { 8, false, 2, 37 },    // longer than the window: pins the sliding-window mask end to end
        { null, true, 3, 19 },  // full causal attention, tied embeddings
        { 16, true, 1, 70 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Cpu_logits_match_the_float64_reference(int? window, bool tied, int batch, int length)
    {
        var config = TestModels.Tiny(window, tied);
        int seed = Environment.TickCount;
        var tokens = TestModels.RandomTokens(new Random(seed), batch * length, config.VocabSize);
        var positions = Enumerable.Range(0, batch).SelectMany(_ => Enumerable.Range(0, length)).ToArray();

        double[] Logits(Backend backend)
        {
            using var model = TestModels.Random(config, backend, seed);
            var logits = model.Forward(backend.FromInts(tokens, batch, length), backend.FromInts(positions, batch, length));
            Assert.Equal(new[] { batch * length, config.VocabSize }, logits.Shape.ToArray());
            return backend.ToDoubles(logits);
        }

        var expected = Logits(new ReferenceBackend());
        var actual = Logits(new CpuBackend(2)).Select(x => (float)x).ToArray();
        Numerics.AssertClose(actual, expected, LogitTolerance, $"logits (seed {seed})");
    }

    [Fact]
    public void Tokens_outside_the_vocabulary_are_rejected_with_their_source()
    {
        using var model = TestModels.Random(TestModels.Tiny(), new CpuBackend(1), 1);
        var error = Assert.Throws<ArgumentException>(() => model.ValidateTokens([1, 2, 61], "tokens.json row 0"));
        Assert.Contains("tokens.json row 0", error.Message);
        Assert.Contains("61", error.Message);
    }
}
