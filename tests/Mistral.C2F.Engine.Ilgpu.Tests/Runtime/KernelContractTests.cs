using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Ilgpu.Kernels;
using Mistral.C2F.Engine.Ilgpu.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Runtime;

/// <summary>Properties of the kernels beyond matching the reference: the one mask definition, and determinism.</summary>
[Trait("Backend", "ilgpu")]
public sealed class KernelContractTests(IlgpuBackends backends)
{
    private readonly IlgpuBackend _backend = backends.Cpu;

    [Fact]
    public void The_kernels_mask_is_the_attention_specs_mask()
    {
        foreach (int? window in new int?[] { null, 1, 3, 8 })
        {
            var spec = new AttentionSpec(1, 1, 1, window);
            for (int query = -1; query < 12; query++)
            for (int key = -1; key < 12; key++)
                Assert.Equal(spec.IsVisible(query, key), AttentionGeometry.IsVisible(query, key, window ?? 0));
        }
    }

    [Fact]
    public void Reductions_are_deterministic_run_to_run()
    {
        var random = new Random(7);
        int rows = 200, width = 70;
        using var x = _backend.FromFloats(Numerics.RandomFloats(random, rows * width), rows, width);
        using var w = _backend.FromFloats(Numerics.RandomFloats(random, width), width);
        using var dy = _backend.FromFloats(Numerics.RandomFloats(random, rows * width), rows, width);
        using var indices = _backend.FromInts(Enumerable.Range(0, rows).Select(_ => random.Next(5)).ToArray(), rows);
        using var inv = _backend.Allocate(rows);
        _backend.RmsNorm(x, w, 1e-5f, _backend.Allocate(rows, width), inv);

        (float[] WeightGrad, float[] Table, double Norm) Run()
        {
            using var dx = _backend.Allocate(rows, width);
            using var dw = _backend.Allocate(width);
            using var table = _backend.Allocate(5, width);
            _backend.Zero(dx); _backend.Zero(dw); _backend.Zero(table);
            _backend.RmsNormBackward(x, w, inv, dy, dx, dw);
            _backend.ScatterAddRows(dy, indices, table);
            return (_backend.ToFloats(dw), _backend.ToFloats(table), _backend.SumOfSquares(dy));
        }

        var (first, second) = (Run(), Run());
        Assert.Equal(first.WeightGrad, second.WeightGrad);
        Assert.Equal(first.Table, second.Table);
        Assert.Equal(first.Norm, second.Norm);
    }
}
