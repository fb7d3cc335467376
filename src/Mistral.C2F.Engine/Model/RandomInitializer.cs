using System.Text;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// Hugging Face's initialisation (normal with std <c>initializer_range</c> = 0.02, norm weights 1).
/// Each tensor's values depend only on the seed and the tensor's name, so a large model can be
/// produced one tensor at a time and any tensor can be regenerated alone.
/// </summary>
public static class RandomInitializer
{
    public const double InitializerRange = 0.02;

    public static float[] Values(string name, Shape shape, int seed)
    {
        var values = new float[shape.ElementCount];
        Fill(name, seed, values);
        return values;
    }

    public static void Fill(string name, int seed, Span<float> values)
    {
        if (name.EndsWith("norm.weight", StringComparison.Ordinal))
        {
            values.Fill(1f);
            return;
        }
        var random = new Random(unchecked(seed * 1_000_003 ^ StableHash(name)));
        for (int i = 0; i < values.Length; i++) values[i] = (float)(InitializerRange * random.NextGaussian());
    }

    public static Dictionary<string, Tensor> Create(MistralConfig config, Backend backend, int seed) =>
        MistralParameterNames.For(config).ToDictionary(p => p.Name, p =>
        {
            var tensor = backend.Allocate(p.Shape, backend.FloatType);
            backend.Upload(Values(p.Name, p.Shape, seed), tensor);
            return tensor;
        });

    // FNV-1a: string.GetHashCode is randomised per process, this is not.
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 16777619;
        return unchecked((int)hash);
    }

    private static double NextGaussian(this Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
