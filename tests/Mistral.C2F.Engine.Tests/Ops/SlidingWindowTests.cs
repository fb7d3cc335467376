using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>Pins the one sliding-window definition of docs/DEFINITIONS.md, "Sliding window": query i sees key j iff i − W &lt; j ≤ i.</summary>
[Trait("Backend", "cpu")]
public sealed class SlidingWindowTests
{
    [Fact]
    public void Visibility_is_W_keys_including_the_query_itself()
    {
        var spec = new AttentionSpec(1, 1, 2, SlidingWindow: 3);
        Assert.Equal([7, 8, 9], Enumerable.Range(0, 20).Where(j => spec.IsVisible(9, j)));
        Assert.Equal([0], Enumerable.Range(0, 20).Where(j => spec.IsVisible(0, j)));
        var full = spec with { SlidingWindow = null };
        Assert.Equal(Enumerable.Range(0, 10), Enumerable.Range(0, 20).Where(j => full.IsVisible(9, j)));
        Assert.False(spec.IsVisible(5, -1));
    }

    [Fact]
    public void Keys_outside_the_window_do_not_change_the_output()
    {
        const int length = 150, window = 40, heads = 2, headDim = 16;
        var random = new Random();
        using var cpu = new CpuBackend(2);
        var spec = new AttentionSpec(heads, heads, headDim, window);
        var qValues = Numerics.RandomFloats(random, length * heads * headDim, 2f);
        var kValues = Numerics.RandomFloats(random, length * heads * headDim, 2f);
        var vValues = Numerics.RandomFloats(random, length * heads * headDim);
        var positions = cpu.FromInts(Enumerable.Range(0, length).ToArray(), 1, length);

        float[] Run(float[] keys, float[] values)
        {
            var output = cpu.Allocate(1, length, heads * headDim);
            cpu.Attention(cpu.FromFloats(qValues, 1, length, heads * headDim), cpu.FromFloats(keys, 1, length, heads * headDim),
                cpu.FromFloats(values, 1, length, heads * headDim), positions, positions, spec, output);
            return cpu.ToFloats(output);
        }

        var baseline = Run(kValues, vValues);
        // Overwrite keys and values 0..59: queries 100.. see only keys 61.. and must not change at all.
        var (k2, v2) = ((float[])kValues.Clone(), (float[])vValues.Clone());
        for (int i = 0; i < 60 * heads * headDim; i++) (k2[i], v2[i]) = (k2[i] * -3 + 1, v2[i] + 5);
        var changed = Run(k2, v2);
        int rowLength = heads * headDim;
        Assert.Equal(baseline.AsSpan(100 * rowLength).ToArray(), changed.AsSpan(100 * rowLength).ToArray());
        Assert.NotEqual(baseline.AsSpan(60 * rowLength, rowLength).ToArray(), changed.AsSpan(60 * rowLength, rowLength).ToArray());
    }
}
