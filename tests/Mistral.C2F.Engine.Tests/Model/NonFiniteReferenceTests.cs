using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Ops.Contract;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Model;

/// <summary>
/// Where a planted NaN must reach on the float64 reference, from the architecture alone, so that the other backends'
/// comparison with the reference (<see cref="NonFiniteModelTests"/>) cannot pass by both swallowing it.
/// </summary>
[Trait("Backend", "reference")]
public sealed class NonFiniteReferenceTests
{
    private const int Vocabulary = 61;

    private static bool[] NonFinite(string weight, out int seed)
    {
        seed = Environment.TickCount;
        using var reference = new ReferenceBackend();
        return NonFiniteModelTests.Run(reference, weight, seed).Logits.Select(x => !float.IsFinite(x)).ToArray();
    }

    /// <summary>
    /// An embedding row is read at one position: each of the two layers carries it at most window − 1 = 2 positions
    /// further along its row, and nowhere else: earlier positions and the other batch row stay finite.
    /// </summary>
    [Fact]
    public void A_nan_embedding_row_reaches_the_positions_within_two_windows_of_its_token_and_no_other()
    {
        var nonFinite = NonFinite(MistralParameterNames.Embedding, out int seed);
        for (int row = 0; row < NonFiniteModelTests.Rows; row++)
        for (int position = 0; position < NonFiniteModelTests.Length; position++)
        {
            bool reached = row == NonFiniteModelTests.PlantedRow && position >= NonFiniteModelTests.PlantedPosition
                && position <= NonFiniteModelTests.PlantedPosition + 2 * 2;
            var logits = nonFinite.AsSpan((row * NonFiniteModelTests.Length + position) * Vocabulary, Vocabulary);
            Assert.True(reached ? !logits.Contains(false) : !logits.Contains(true), $"row {row}, position {position} (seed {seed})");
        }
    }

    [Fact]
    public void A_nan_in_a_row_of_lm_head_reaches_that_token_s_logit_at_every_position_and_no_other_logit()
    {
        var nonFinite = NonFinite(MistralParameterNames.LmHead, out int seed);
        for (int i = 0; i < nonFinite.Length; i++)
            Assert.True(nonFinite[i] == (i % Vocabulary == NonFiniteModelTests.PlantedToken), $"logit {i} (seed {seed})");
    }

    [Theory]
    [InlineData("model.layers.0.self_attn.q_proj.weight")]
    [InlineData("model.layers.0.input_layernorm.weight")]
    [InlineData("model.norm.weight")]
    public void A_nan_in_a_projection_or_norm_weight_reaches_every_logit(string weight)
    {
        var nonFinite = NonFinite(weight, out int seed);
        Assert.True(nonFinite.All(x => x), $"{weight}: {nonFinite.Count(x => !x)} logits stayed finite (seed {seed})");
    }
}
