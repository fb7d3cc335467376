using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Engine.Tests.Support;

public static class TestModels
{
    /// <summary>Two layers, GQA 4:2, a window of 8 so short sequences already slide.</summary>
    public static MistralConfig Tiny(int? window = 8, bool tied = false) => new()
    {
        VocabSize = 61,
        HiddenSize = 32,
        IntermediateSize = 44,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        SlidingWindow = window,
        RopeTheta = 10000,
        RmsNormEps = 1e-5,
        TieWordEmbeddings = tied,
    };

    /// <summary>Random weights with a larger spread than HF's 0.02, so logits differ clearly between tokens.</summary>
    public static MistralModel Random(MistralConfig config, Backend backend, int seed)
    {
        var parameters = MistralParameterNames.For(config).ToDictionary(p => p.Name, p =>
        {
            var values = RandomInitializer.Values(p.Name, p.Shape, seed);
            if (!p.Name.EndsWith("norm.weight", StringComparison.Ordinal))
                for (int i = 0; i < values.Length; i++) values[i] *= 10;
            else
                for (int i = 0; i < values.Length; i++) values[i] += (i % 7 - 3) * 0.05f;
            var tensor = backend.Allocate(p.Shape, backend.FloatType);
            backend.Upload(values, tensor);
            return tensor;
        });
        return new MistralModel(config, backend, parameters);
    }

    public static int[] RandomTokens(Random random, int count, int vocabulary) =>
        Enumerable.Range(0, count).Select(_ => random.Next(vocabulary)).ToArray();
}
